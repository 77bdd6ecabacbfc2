/**
 * Shared harness for the tests of examples/: run an example exactly as its `deno task` does
 * (same permission flags, read from deno.json), watch its standard output line by line, and
 * talk to it over real sockets. Nothing here sleeps: tests wait for printed lines, for bytes
 * on a socket or for the process to exit, each under a deadline so a broken example fails
 * the test instead of hanging it.
 */
import assert from "node:assert/strict";
import { readToEnd, writeAll } from "./helpers.ts";
export { writeAll };

const ROOT = new URL("../", import.meta.url);
const ROOT_DIR = decodeURIComponent(ROOT.pathname);

/** How long any single wait may take before the test fails. */
export const DEADLINE_MS = 10_000;

/** Reject with a clear message if `promise` does not settle within `ms`. */
export async function deadline<T>(
  promise: Promise<T>,
  what: string | (() => string),
  ms = DEADLINE_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`timed out after ${ms} ms: ${typeof what === "string" ? what : what()}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The arguments `deno task NAME` passes to `deno`, for a run in `cwd`: `$PWD` becomes `cwd`
 * (as it would if the task were started there) and the example's path is made absolute.
 */
export function taskArgs(name: string, cwd: string): string[] {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const command: string | undefined = config.tasks?.[name];
  assert.ok(command, `deno.json has no task ${name}`);
  const words = command.replaceAll("$PWD", cwd).split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"], `task ${name} is not a plain deno run`);
  return words.slice(1).map((w) => w.startsWith("examples/") ? ROOT_DIR + w : w);
}

/** A running example whose standard output is collected line by line. */
export class Example implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: Promise<string>;
  #ended = false;
  #changed = Promise.withResolvers<void>();
  readonly #pump: Promise<void>;

  constructor(task: string, args: string[], options: { cwd?: string; stdin?: boolean } = {}) {
    const cwd = options.cwd ?? ROOT_DIR;
    this.child = new Deno.Command(Deno.execPath(), {
      args: [...taskArgs(task, cwd), ...args],
      cwd,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    this.stderr = new Response(this.child.stderr).text();
    this.#pump = this.#readLines();
  }

  async #readLines(): Promise<void> {
    let pending = "";
    for await (const text of this.child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += text;
      let nl;
      while ((nl = pending.indexOf("\n")) !== -1) {
        this.lines.push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        this.#notify();
      }
    }
    if (pending) this.lines.push(pending);
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers();
  }

  /** Wait until a line of standard output matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    const find = async (): Promise<RegExpMatchArray> => {
      for (let i = 0;; i++) {
        while (i >= this.lines.length) {
          if (this.#ended) {
            throw new Error(
              `output ended without a line matching ${pattern}:\n${this.lines.join("\n")}\n` +
                `stderr: ${await this.stderr}`,
            );
          }
          await this.#changed.promise;
        }
        const match = this.lines[i].match(pattern);
        if (match) return match;
      }
    };
    return await deadline(
      find(),
      () => `a line matching ${pattern}; output so far:\n${this.lines.join("\n")}`,
    );
  }

  /** Wait for the "listening on HOST:PORT" line and return the port. */
  async listeningPort(): Promise<number> {
    const [, port] = await this.waitFor(/listening on [^\s]+:(\d+)$/);
    return Number(port);
  }

  /** Write `text` to the example's standard input and close it (end of file). */
  async input(text: string): Promise<void> {
    const writer = this.child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  }

  /** Wait for the process to exit on its own; returns its exit code and all its output. */
  async exit(): Promise<{ code: number; stdout: string; stderr: string }> {
    const status = await deadline(this.child.status, "the example to exit");
    await this.#pump;
    const stdout = this.lines.map((l) => l + "\n").join("");
    return { code: status.code, stdout, stderr: await this.stderr };
  }

  /** Send `signal` and wait for the exit. */
  stop(signal: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }> {
    this.child.kill(signal);
    return this.exit();
  }

  /** Cleanup for `await using`: kill the process if a failed test left it running. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* already exited */ }
    await this.child.status;
    await this.#pump;
    await this.stderr;
  }
}

/** Run a client example to completion, with `input` on its standard input. */
export async function runClient(
  task: string,
  args: string[],
  options: { cwd?: string; input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  await using client = new Example(task, args, {
    cwd: options.cwd,
    stdin: options.input !== undefined,
  });
  if (options.input !== undefined) await client.input(options.input);
  return await client.exit();
}

/** Reads from `conn` until end of file (within the deadline); returns everything as text. */
export async function readTextToEnd(conn: Deno.Conn): Promise<string> {
  const bytes = await deadline(readToEnd(conn), "end of file from the server");
  return new TextDecoder().decode(bytes);
}

/**
 * Read from `conn` until `length` bytes have arrived (however many reads that takes)
 * and return them as text, for the caller to compare with what it expected.
 */
export async function readBytes(conn: Deno.Conn, length: number): Promise<string> {
  const read = async () => {
    const bytes = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = await conn.read(bytes.subarray(got));
      if (n === null) throw new Error(`end of file after ${got} of ${length} bytes`);
      got += n;
    }
    return new TextDecoder().decode(bytes);
  };
  return await deadline(read(), `${length} bytes from the server`);
}

export const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
