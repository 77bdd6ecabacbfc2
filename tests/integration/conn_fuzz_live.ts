/**
 * Helpers for tests against a live server in this process: open descriptors, waiting on a
 * condition (never a fixed sleep), and client behaviours that are awkward to write by hand.
 */
import { writeAll } from "../helpers.ts";

/**
 * Open file descriptors of this process (the server runs in it). Deno asks for --allow-all to
 * read /proc/self/fd itself, so `ls` reads it from outside; its pipes are open in this process
 * during every count alike, so counts compare.
 */
export async function openFds(): Promise<number> {
  const out = await new Deno.Command("ls", {
    args: [`/proc/${Deno.pid}/fd`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`ls /proc/${Deno.pid}/fd failed`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").length;
}

/**
 * Resolves once `condition()` holds, checking again after each short timer turn; rejects with
 * `message` (and what `describe` says) after `timeoutMs`.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  message: string,
  timeoutMs = 5000,
  describe: () => string | Promise<string> = () => "",
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${message} ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the server has no connection open and the descriptors are back to `baseline`. */
export function quiescent(
  server: { stats(): { connections: number } },
  baseline: number,
  timeoutMs = 5000,
): Promise<void> {
  return waitUntil(
    async () => server.stats().connections === 0 && (await openFds()) <= baseline,
    "server quiescent with descriptors at baseline",
    timeoutMs,
    async () => `(connections ${server.stats().connections}, fds ${await openFds()} > ${baseline})`,
  );
}

/**
 * Resets a connection: reads `bytes` bytes of what the server sent (so more is waiting unread),
 * then closes. Closing a TCP socket with unread data sends RST instead of FIN (Linux).
 */
export async function resetAfter(conn: Deno.Conn, bytes = 1): Promise<void> {
  const buf = new Uint8Array(bytes);
  let got = 0;
  while (got < bytes) {
    const n = await conn.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  conn.close();
}

export async function send(conn: Deno.Conn, text: string): Promise<void> {
  await writeAll(conn, new TextEncoder().encode(text));
}
