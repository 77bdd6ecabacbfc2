/**
 * Test helpers: start a server on a free port, speak raw bytes to it, and read back responses with
 * a small independent response parser (so the tests do not trust the code they test).
 */
import { serve } from "../mod.ts";
import type { HttpServer, ServeHandler, ServeOptions } from "../mod.ts";

export interface TestServer {
  server: HttpServer;
  port: number;
  origin: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts `serve()` on 127.0.0.1 and a free port, quietly. Dispose it with `await using`. */
export function startServer(handler: ServeHandler, options: ServeOptions = {}): TestServer {
  const server = serve({ hostname: "127.0.0.1", port: 0, onListen() {}, ...options }, handler);
  const port = (server.addr as Deno.NetAddr).port;
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends `request` (string or bytes) in one write and returns every byte until the server closes. */
export async function exchange(port: number, request: string | Uint8Array): Promise<string> {
  return await exchangeOn(await Deno.connect({ hostname: "127.0.0.1", port }), request);
}

/** `exchange` over a connection already open (any transport); closes it. */
export async function exchangeOn(conn: Deno.Conn, request: string | Uint8Array): Promise<string> {
  try {
    await writeAll(conn, request);
    return decoder.decode(await readToEnd(conn));
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the server already
    }
  }
}

/** Writes all of `data` (text as UTF-8), however many writes the socket takes. */
export async function writeAll(conn: Deno.Conn, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Every byte until the peer closes (a reset counts as the end). */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) break;
      throw error;
    }
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export interface ParsedResponse {
  version: string;
  status: number;
  reason: string;
  headers: Map<string, string>;
  body: string;
}

/**
 * Splits a byte string holding zero or more complete responses (as text) into responses, using
 * Content-Length, chunked, or read-to-end framing. `headRequests` marks which responses answer a
 * HEAD (no body whatever the headers say).
 */
export function parseResponses(text: string, headRequests: boolean[] = []): ParsedResponse[] {
  const responses: ParsedResponse[] = [];
  let pos = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", pos);
    if (headEnd === -1) throw new Error(`incomplete response head at ${pos}: ${text.slice(pos)}`);
    const lines = text.slice(pos, headEnd).split("\r\n");
    const match = /^(HTTP\/1\.[01]) (\d{3}) ?(.*)$/.exec(lines[0]);
    if (!match) throw new Error(`bad status line: ${lines[0]}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
    }
    const status = Number(match[2]);
    pos = headEnd + 4;
    let body = "";
    const noBody = headRequests[responses.length] || status < 200 || status === 204 ||
      status === 304;
    if (noBody) {
      // nothing
    } else if (headers.get("transfer-encoding") === "chunked") {
      for (;;) {
        const lineEnd = text.indexOf("\r\n", pos);
        const size = parseInt(text.slice(pos, lineEnd), 16);
        // A cut or malformed chunked body fails the test instead of looping forever.
        if (lineEnd === -1 || Number.isNaN(size)) {
          throw new Error(`bad chunk size line at ${pos}: ${JSON.stringify(text.slice(pos))}`);
        }
        pos = lineEnd + 2;
        if (size === 0) {
          pos = text.indexOf("\r\n", pos) + 2;
          break;
        }
        body += text.slice(pos, pos + size);
        pos += size + 2;
      }
    } else if (headers.has("content-length")) {
      const length = Number(headers.get("content-length"));
      body = text.slice(pos, pos + length);
      pos += length;
    } else {
      body = text.slice(pos);
      pos = text.length;
    }
    responses.push({ version: match[1], status, reason: match[3], headers, body });
  }
  return responses;
}

/** Runs a command and returns its exit code and output (for curl and subprocess tests). */
export async function run(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** A promise with its resolve function outside: lets a test decide when a handler finishes. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => resolve = r);
  return { promise, resolve };
}

/**
 * A client connection that reads one response at a time: it buffers bytes until a complete
 * response (by Content-Length or chunked framing) is in hand.
 */
export class Client {
  #conn: Deno.Conn;
  #text = "";
  #buf = new Uint8Array(64 * 1024);

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  get conn(): Deno.Conn {
    return this.#conn;
  }

  send(text: string | Uint8Array): Promise<void> {
    return writeAll(this.#conn, typeof text === "string" ? encoder.encode(text) : text);
  }

  /** Reads until `count` complete responses are buffered and returns them. */
  async responses(count: number, headRequests: boolean[] = []): Promise<ParsedResponse[]> {
    for (;;) {
      const complete = completeResponses(this.#text, headRequests);
      if (complete.responses.length >= count) {
        this.#text = this.#text.slice(complete.consumed[count - 1]);
        return complete.responses.slice(0, count);
      }
      const n = await this.#conn.read(this.#buf);
      if (n === null) throw new Error(`connection closed; got: ${JSON.stringify(this.#text)}`);
      this.#text += decoder.decode(this.#buf.subarray(0, n), { stream: true });
    }
  }

  async response(head = false): Promise<ParsedResponse> {
    return (await this.responses(1, [head]))[0];
  }

  /** Reads to the end of the stream; what comes after the responses already taken. */
  async rest(): Promise<string> {
    const tail = decoder.decode(await readToEnd(this.#conn));
    const text = this.#text + tail;
    this.#text = "";
    return text;
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}

/** The complete responses at the start of `text`, with the offset just past each. */
function completeResponses(text: string, headRequests: boolean[]) {
  const responses: ParsedResponse[] = [];
  const consumed: number[] = [];
  let pos = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf("\r\n\r\n", pos);
    if (headEnd === -1) break;
    const head = text.slice(pos, headEnd);
    const status = Number(head.slice(9, 12));
    let end = headEnd + 4;
    const isHead = headRequests[responses.length] ?? false;
    const noBody = isHead || status < 200 || status === 204 || status === 304;
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!noBody && /\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = text.indexOf("\r\n0\r\n\r\n", headEnd);
      const first = text.startsWith("0\r\n\r\n", end) ? end - 2 : last;
      if (first === -1) break;
      end = first + 7;
    } else if (!noBody && length) {
      end += Number(length[1]);
      if (end > text.length) break;
    } else if (!noBody) {
      break; // read-to-end framing: only complete at close
    }
    responses.push(parseResponses(text.slice(pos, end), [isHead])[0]);
    consumed.push(end);
    pos = end;
  }
  return { responses, consumed };
}
