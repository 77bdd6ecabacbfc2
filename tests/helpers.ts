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
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAllTo(conn, typeof request === "string" ? encoder.encode(request) : request);
    return decoder.decode(await readToEnd(conn));
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the server already
    }
  }
}

export async function writeAllTo(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

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
