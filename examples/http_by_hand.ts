/**
 * http_by_hand.ts — the lecture's daemon, speaking HTTP: the smallest web server that a browser
 * and curl accept, written on `Deno.listen` and the project's `BufferedReader` only. Everything
 * else in sockserve (parser, framing, keep-alive, limits) grows out of these few lines.
 *
 *   deno task example:http-by-hand                 # 127.0.0.1:9003
 *   curl -i http://127.0.0.1:9003/anything
 *
 * The system calls behind each line:
 *
 *   socket(AF_INET, SOCK_STREAM, 0)  ┐
 *   setsockopt(SO_REUSEADDR)         │  Deno.listen({ hostname, port }) — Deno sets SO_REUSEADDR
 *   bind(fd, {127.0.0.1, port})      ├─ so a restarted server can bind while old connections sit
 *   listen(fd, backlog)              ┘  in TIME_WAIT; the backlog is Deno's choice
 *   accept(fd, ...)                  ─  `for await (const conn of listener)`: one task per client
 *   read(cfd, buf, n) until "\r\n\r\n" ─ reader.readUntil("\r\n\r\n", MAX_HEAD): a read returns
 *                                       whatever has arrived, so the reader loops until the
 *                                       blank line that ends an HTTP head is in its buffer
 *   write(cfd, response, len)        ─  writeAll(conn, bytes): write() may take fewer bytes
 *   shutdown(cfd, SHUT_WR)           ─  conn.closeWrite(): "no more from me", the client reads EOF
 *   close(cfd)                       ─  conn.close()
 *   close(fd)                        ─  listener.close() on SIGINT/SIGTERM
 *
 * It is deliberately HTTP/1.0-style: one request per connection, the end of the response marked
 * both by Content-Length and by closing. It reads no request body. Run `deno task serve` for the
 * real thing.
 *
 * Usage: http_by_hand.ts [--host 127.0.0.1] [--port 9003]
 */
import { parseArgs } from "node:util";
import { BufferedReader } from "../src/io/reader.ts";
import { writeAll } from "../src/io/writer.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9003" },
  },
});
const MAX_HEAD = 8 * 1024; // a head longer than this is refused (431), not buffered forever

function response(status: string, body: string): Uint8Array {
  const bytes = new TextEncoder().encode(body);
  const head = `HTTP/1.1 ${status}\r\n` +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    `Content-Length: ${bytes.length}\r\n` +
    "Connection: close\r\n\r\n"; // the blank line: the head ends, the body follows
  return new Uint8Array([...new TextEncoder().encode(head), ...bytes]);
}

async function handle(conn: Deno.Conn): Promise<void> {
  try {
    const reader = new BufferedReader(conn);
    const head = await reader.readUntil("\r\n\r\n", MAX_HEAD);
    if (head.status === "eof" || head.status === "truncated") return; // client left: nothing to say
    let answer;
    if (head.status === "limit") {
      answer = response("431 Request Header Fields Too Large", "Request head too large\n");
    } else {
      // "GET /path HTTP/1.1": the first line of the head; the header fields are ignored here.
      const requestLine = new TextDecoder().decode(head.bytes).split("\r\n", 1)[0];
      const match = requestLine.match(/^([A-Z]+) (\S+) HTTP\/1\.[01]$/);
      answer = match
        ? response("200 OK", `Hello there! You asked for ${match[1]} ${match[2]}\n`)
        : response("400 Bad Request", "Bad request line\n");
    }
    await writeAll(conn, answer);
    await conn.closeWrite();
  } catch (error) {
    console.error(`http_by_hand: ${(error as Error).message}`); // a reset: this client only
  } finally {
    conn.close();
  }
}

const listener = Deno.listen({ hostname: values.host, port: Number(values.port) });
const addr = listener.addr as Deno.NetAddr;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    listener.close(); // the for-await loop below ends
    console.log(`${signal}: closed the listener, bye`);
  });
}
console.log(`http_by_hand: listening on ${addr.hostname}:${addr.port}`);
for await (const conn of listener) handle(conn); // not awaited: the next accept() runs at once
Deno.exit(0);
