/** How the command line and its proxy speak of an error in one line. */

/** An OS error's message without the " (os error N)" and the path Deno appends. */
export function describeError(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/ \(os error \d+\).*$/, "");
}
