/**
 * upper_tcp.ts — the lecture's TCP example: a client sends lines, the server answers each
 * line in upper case. Several clients at once, each on its own connection and its own task.
 *
 *   deno task example:upper-tcp                 # server on 127.0.0.1:9000
 *   deno task example:upper-client              # type lines; Ctrl-D to finish
 *
 * The system calls behind each line:
 *
 *   socket(AF_INET, SOCK_STREAM, 0)  ┐
 *   setsockopt(SO_REUSEADDR)         │  Deno.listen({ hostname, port }); Deno sets SO_REUSEADDR
 *   bind(fd, {127.0.0.1, port})      ├─ itself, so a restart need not wait out TIME_WAIT; port 0
 *   listen(fd, backlog)              ┘  lets the kernel pick a free port (see listener.addr)
 *   accept(fd, &peer, &len)          ─  `for await (const conn of listener)`; conn.remoteAddr
 *   read(cfd, buf, n)                ─  conn.read(buf): 1..n bytes, or null at end of file
 *   write(cfd, buf, n)               ─  conn.write(bytes): may write fewer bytes, so loop
 *   close(cfd) / close(fd)           ─  conn.close() / listener.close()
 *
 * The "welcoming" socket only accepts; every accept() returns a new connected socket for
 * one client. The C version would start a thread per client (pthread_create); here each
 * connection gets its own async task — `handle(conn)` is started and *not* awaited, so the
 * accept loop goes straight back to waiting for the next client.
 *
 * TCP is a byte stream: it keeps the order of the bytes, not the boundaries of the writes.
 * One read may return half a line, or three lines and the start of a fourth. So the server
 * collects bytes and answers once it has a whole line (up to "\n") — the newline *is* the
 * message boundary, chosen by this protocol, not given by the socket.
 *
 * Usage: upper_tcp.ts [--host 127.0.0.1] [--port 9000]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9000" },
  },
});

/** A line longer than this is refused: a server must bound what it buffers for a client. */
const MAX_LINE = 64 * 1024;
const encoder = new TextEncoder();

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

const open = new Set<Deno.Conn>();

/** One client, from accept() to close(): read bytes, answer every complete line. */
async function handle(conn: Deno.Conn, id: number): Promise<void> {
  const peer = conn.remoteAddr as Deno.NetAddr;
  console.log(`client ${id}: connected from ${peer.hostname}:${peer.port}`);
  open.add(conn);
  // stream: true keeps a multi-byte character split between two reads for the next one.
  const decoder = new TextDecoder();
  const buf = new Uint8Array(4096);
  let pending = ""; // bytes received but not yet ended by "\n"
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break; // the client closed (or shut down) its sending side
      pending += decoder.decode(buf.subarray(0, n), { stream: true });
      const end = pending.lastIndexOf("\n") + 1; // everything before `end` is whole lines
      if (end > 0) {
        // All complete lines of this read, upper-cased, in one write.
        await writeAll(conn, encoder.encode(pending.slice(0, end).toUpperCase()));
        pending = pending.slice(end);
      }
      if (pending.length > MAX_LINE) {
        await writeAll(conn, encoder.encode(`ERROR: line longer than ${MAX_LINE} bytes\n`));
        throw new Error("line too long");
      }
    }
    // End of file after a last line without "\n": answer it too.
    pending += decoder.decode();
    if (pending) await writeAll(conn, encoder.encode(pending.toUpperCase()));
    console.log(`client ${id}: done`);
  } catch (err) {
    if (!stopping) console.error(`client ${id}: ${(err as Error).message}`);
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
  listener.close(); // stop accepting
  for (const conn of open) conn.close(); // and hang up on everyone still connected
  console.log(`${signal}: closed the listener and ${open.size} connection(s), bye`);
}
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));

console.log(`upper_tcp: listening on ${addr.hostname}:${addr.port}`);

let clients = 0;
try {
  for await (const conn of listener) {
    handle(conn, ++clients); // not awaited: one task per connection
  }
} catch (err) {
  if (!stopping) throw err;
}
Deno.exit(0);
