/**
 * ack_server.ts — the lecture's multi-client server: every client gets its own task; the
 * server prints what each client sent and answers "Received" to each message.
 *
 *   deno task example:ack-server                       # 127.0.0.1:9001
 *   deno task example:upper-client --port 9001         # or: nc 127.0.0.1 9001
 *
 * The system calls behind each line (the C version is multi_threaded_server.c):
 *
 *   socket + bind + listen(fd, 100)  ─  Deno.listen({ hostname, port })
 *   while (1) accept(fd, ...)        ─  `for await (const conn of listener)`
 *   pthread_create(conn_handler)     ─  serve(conn, id) started and not awaited: one task each
 *   while ((n = read(cfd, buf)))     ─  `while ((n = await conn.read(buf)) !== null)`
 *   printf("Received: %s", buf)      ─  console.log of exactly the n bytes that arrived
 *   send(cfd, "Received", 8, 0)      ─  conn.write(): send() is write() plus flags, and Deno
 *                                       exposes no flags (no MSG_PEEK, MSG_OOB, ...)
 *   close(cfd)                       ─  conn.close() when read() says end of file
 *
 * Two things the C version gets subtly wrong, and that this one does on purpose:
 * - read() does not add a terminating NUL: only the first n bytes of the buffer are data.
 *   Printing the whole buffer prints leftovers of an earlier, longer message.
 * - "One read = one message" holds only while the client waits for each "Received" before
 *   sending again. TCP is a byte stream: two quick sends can arrive in one read (one ack for
 *   two messages) and one big send can arrive in several reads (several acks). A protocol
 *   that needs messages marks their ends itself — upper_tcp.ts uses newlines.
 * The reply is "Received\n": the newline lets line-based tools (nc, upper_client.ts) show it.
 *
 * Usage: ack_server.ts [--host 127.0.0.1] [--port 9001]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9001" },
  },
});

const ack = new TextEncoder().encode("Received\n");
const decoder = new TextDecoder();
const open = new Set<Deno.Conn>();

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** conn_handler: one client's whole life. Runs concurrently with every other client's. */
async function serve(conn: Deno.Conn, id: number): Promise<void> {
  const peer = conn.remoteAddr as Deno.NetAddr;
  console.log(`[client ${id}] connected from ${peer.hostname}:${peer.port}`);
  open.add(conn);
  const buf = new Uint8Array(1024);
  try {
    let n: number | null;
    while ((n = await conn.read(buf)) !== null) {
      // JSON.stringify shows the bytes as they came: newlines, spaces, partial messages.
      console.log(
        `[client ${id}] received ${n} bytes: ${JSON.stringify(decoder.decode(buf.subarray(0, n)))}`,
      );
      await writeAll(conn, ack);
    }
    console.log(`[client ${id}] closed`);
  } catch (err) {
    if (!stopping) console.error(`[client ${id}] ${(err as Error).message}`);
  } finally {
    open.delete(conn);
    try {
      conn.close();
    } catch { /* already closed by stop() */ }
  }
}

const listener = Deno.listen({ hostname: values.host, port: Number(values.port) });
const addr = listener.addr as Deno.NetAddr;

let stopping = false;
function stop(signal: Deno.Signal): void {
  if (stopping) return;
  stopping = true;
  listener.close();
  for (const conn of open) conn.close();
  console.log(`${signal}: closed the listener and ${open.size} connection(s), bye`);
}
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));

console.log(`ack_server: listening on ${addr.hostname}:${addr.port}`);

let clients = 0;
try {
  for await (const conn of listener) serve(conn, ++clients);
} catch (err) {
  if (!stopping) throw err;
}
Deno.exit(0);
