/**
 * upper_client.ts — the client half of upper_tcp.ts: read lines from standard input, send
 * each one, print the server's answer.
 *
 *   deno task example:upper-client                       # type lines; Ctrl-D to finish
 *   printf 'hello\nworld\n' | deno task example:upper-client
 *
 * The system calls behind each line:
 *
 *   socket(AF_INET, SOCK_STREAM, 0)  ┐
 *   connect(fd, {host, port})        ┘─ Deno.connect({ hostname, port })
 *   write(fd, line, n)               ─  conn.write(bytes), looped until all bytes are out
 *   read(fd, buf, n)                 ─  the reads behind conn.readable, collected up to "\n"
 *   shutdown(fd, SHUT_WR)            ─  conn.closeWrite(): "I have nothing more to send"
 *   close(fd)                        ─  conn.close()
 *
 * shutdown() is not close(): after closeWrite() the server's read() returns end of file,
 * but our socket can still *read* — so the server can send its last answers and then
 * close its side, which we see as end of file in turn. Both sides finish cleanly.
 *
 * Any server that answers one line per line works: try `--port 9001` against ack_server.ts.
 *
 * Usage: upper_client.ts [--host 127.0.0.1] [--port 9000]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9000" },
  },
});

/** Split a byte stream into lines. Reads end wherever the bytes happened to stop, so we buffer. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let nl;
    while ((nl = pending.indexOf("\n")) !== -1) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
  }
  if (pending) yield pending; // last line without a newline
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

let conn: Deno.TcpConn;
try {
  conn = await Deno.connect({ hostname: values.host, port: Number(values.port) });
} catch (err) {
  if (err instanceof Deno.errors.ConnectionRefused) {
    console.error(`nothing listens on ${values.host}:${values.port}: start upper_tcp.ts first`);
    Deno.exit(1);
  }
  throw err;
}

const encoder = new TextEncoder();
const replies = lines(conn.readable);
for await (const line of lines(Deno.stdin.readable)) {
  await writeAll(conn, encoder.encode(line + "\n"));
  const reply = await replies.next(); // wait for the answer before sending the next line
  if (reply.done) {
    console.error("the server closed the connection");
    Deno.exit(1);
  }
  console.log(reply.value);
}

conn.closeWrite(); // shutdown(SHUT_WR): the server sees end of file and finishes
for await (const rest of replies) console.log(rest); // anything left, until the server closes
try {
  conn.close();
} catch { /* reading to the end already released the socket */ }
