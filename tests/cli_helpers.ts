/**
 * The `serve` task as a subprocess: the command and permissions read from deno.json, run with
 * this Deno binary; its stdout read line by line (startup lines, the access log).
 */
import assert from "node:assert/strict";

/** The serve task's command from deno.json, with this Deno binary. */
export async function serveCommand(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const [deno, ...args] = (config.tasks.serve as string).split(/\s+/);
  assert.equal(deno, "deno");
  return args;
}

export interface CliProcess extends AsyncDisposable {
  child: Deno.ChildProcess;
  /** The next stdout line (null at end of output). */
  nextLine(): Promise<string | null>;
  stderr(): Promise<string>;
}

/**
 * Runs the serve task with `args`. `command` replaces the task's command (an installed
 * `sockserve`, say); `env` adds variables (INIT_CWD, as `deno task` sets it).
 */
export async function startCli(
  args: string[],
  options: {
    command?: string[];
    env?: Record<string, string>;
    cwd?: string | URL;
    /** Start from an empty environment (then `env` must hold PATH, HOME and the like). */
    clearEnv?: boolean;
  } = {},
): Promise<CliProcess> {
  const [program, ...prefix] = options.command ?? [Deno.execPath(), ...await serveCommand()];
  const child = new Deno.Command(program, {
    args: [...prefix, ...args],
    cwd: options.cwd ?? new URL("..", import.meta.url),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
    clearEnv: options.clearEnv ?? false,
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  return {
    child,
    async nextLine() {
      for (;;) {
        const newline = buffered.indexOf("\n");
        if (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          return line;
        }
        const { done, value } = await lines.read();
        if (done) return buffered === "" ? null : buffered;
        buffered += value;
      }
    },
    stderr: () => new Response(child.stderr).text(),
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
      await lines.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    },
  };
}
