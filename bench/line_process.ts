/**
 * A load generator process driven line by line: the harness waits for a line that starts with a
 * tag (`READY`, `IDLE`, `RESULT {…}`), writes a line to its stdin to let it go on, and kills it
 * (its whole tree) if it is still running when the measurement ends. Used by the idle-connection
 * and WebSocket loads, whose tools are Deno scripts rather than wrk.
 */

import { processTree, signal, withFdLimit } from "./launch.ts";

export class LineProcess {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<unknown>;
  #ended = false;

  /** Starts `deno run --allow-all SCRIPT ARGS…` under a raised descriptor limit. */
  constructor(script: string, args: string[]) {
    const run = withFdLimit(Deno.execPath(), ["run", "--allow-all", script, ...args]);
    this.#child = new Deno.Command(run.cmd, {
      args: run.args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      let pending = "";
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf("\n")) >= 0) {
          this.#push(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
        }
      }
      if (pending) this.#push(pending);
    };
    this.#done = Promise.all([
      collect(this.#child.stdout),
      collect(this.#child.stderr),
      this.#child.status,
    ]).finally(() => {
      this.#ended = true;
      this.#wake();
    });
  }

  get pid(): number {
    return this.#child.pid;
  }

  #push(line: string) {
    this.#lines.push(line);
    if (this.#lines.length > 200) this.#lines.shift();
    this.#wake();
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  /**
   * The text after `tag ` of the next line starting with `tag`, waiting up to `timeoutMs`.
   * Throws with the process's last lines when it exits or times out first.
   */
  async expect(tag: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const at = this.#lines.findIndex((l) => l === tag || l.startsWith(`${tag} `));
      if (at >= 0) {
        const [line] = this.#lines.splice(0, at + 1).slice(-1);
        return line.slice(tag.length + 1);
      }
      const left = deadline - Date.now();
      if (this.#ended || left <= 0) {
        const why = this.#ended ? "exited" : `gave no ${tag} within ${timeoutMs / 1000} s`;
        throw new Error(`load tool ${why}: ${this.#lines.slice(-3).join(" / ") || "no output"}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Writes one line to the tool's stdin. */
  async send(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  /**
   * Closes stdin, gives the tool `graceMs` to exit by itself (closing its connections), kills
   * what is left of its tree, and waits for it to end.
   */
  async stop(graceMs = 5_000): Promise<void> {
    await this.#stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#done.catch(() => {}),
      new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
    ]);
    clearTimeout(timer);
    if (!this.#ended) { for (const pid of processTree(this.#child.pid)) signal(pid, "SIGKILL"); }
    await this.#done.catch(() => {});
  }
}
