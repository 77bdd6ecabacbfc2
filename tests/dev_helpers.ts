/**
 * Helpers for the development server's tests: the proxy's backend as a process of its own
 * (tests/fixtures/proxy_backend.ts), the dev server in this process on a free port, and a raw
 * connection read until the bytes a test waits for have come (no sleeps: each wait has a deadline).
 */
import assert from "node:assert/strict";
import type { DevOptions } from "../src/cli/dev_handler.ts";
import { cliServer } from "../src/cli/handler.ts";
import { startServer } from "./helpers.ts";
import { deadline } from "./examples_helpers.ts";

export interface Backend extends AsyncDisposable {
  port: number;
  origin: string;
  child: Deno.ChildProcess;
}

/** Starts the backend process and waits for its `listening PORT` line. */
export async function startBackend(): Promise<Backend> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      new URL("fixtures/proxy_backend.ts", import.meta.url).href,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { done, value } = await deadline(lines.read(), "the backend's listening line");
    if (done) throw new Error(`backend exited before listening: ${text}`);
    text += value;
  }
  const match = /^listening (\d+)/.exec(text);
  assert.ok(match, text);
  const port = Number(match[1]);
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    child,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited already (the dying routes)
      }
      await child.status;
      await lines.cancel().catch(() => {});
    },
  };
}

/** Dev options with nothing on; a test sets what it needs. */
export function devOptions(options: Partial<DevOptions> = {}): DevOptions {
  return {
    watch: false,
    proxy: [],
    proxyTimeout: 30_000,
    headers: [],
    redirects: [],
    rewrites: [],
    ...options,
  };
}

export interface DevTestServer extends AsyncDisposable {
  port: number;
  origin: string;
  root: string;
}

/** The dev server (as the command line builds it) over a temporary root holding `files`, on 127.0.0.1 and a free port. */
export async function startDev(
  options: Partial<DevOptions>,
  files: Record<string, string> = {},
): Promise<DevTestServer> {
  const root = await Deno.makeTempDir({ prefix: "sockserve-dev-" });
  for (const [path, content] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
  // The handler `deno task serve` builds, without the access log.
  const dev = cliServer({ root, files: {}, log: "off", dev: devOptions(options) });
  const server = startServer(dev.handler);
  return {
    port: server.port,
    origin: server.origin,
    root,
    async [Symbol.asyncDispose]() {
      await dev.close();
      await server[Symbol.asyncDispose]();
      await Deno.remove(root, { recursive: true });
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A raw connection whose received text can be awaited piece by piece. */
export class RawClient implements Disposable {
  text = "";
  closed = false;
  #conn: Deno.Conn;
  #buf = new Uint8Array(64 * 1024);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  async send(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    for (let off = 0; off < bytes.length;) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Reads until `done(text)` holds; the text received so far. Throws if the peer closes first. */
  async until(done: (text: string) => boolean, what: string): Promise<string> {
    while (!done(this.text)) {
      if (!await deadline(this.#read(), () => `${what}; got ${JSON.stringify(this.text)}`)) {
        throw new Error(`closed before ${what}; got ${JSON.stringify(this.text)}`);
      }
    }
    return this.text;
  }

  /** Reads until the peer closes; the whole text. */
  async toEnd(what: string): Promise<string> {
    while (
      await deadline(this.#read(), () => `the end of ${what}; got ${JSON.stringify(this.text)}`)
    );
    return this.text;
  }

  async #read(): Promise<boolean> {
    let n: number | null;
    try {
      n = await this.#conn.read(this.#buf);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) n = null;
      else throw error;
    }
    if (n === null) {
      this.closed = true;
      return false;
    }
    this.text += decoder.decode(this.#buf.subarray(0, n), { stream: true });
    return true;
  }

  [Symbol.dispose](): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}
