/**
 * hello_unix.ts — the lecture's first server: a local (Unix domain) stream socket at
 * `example.sock` that sends "Hello there!" to every client and then hangs up.
 *
 *   deno task example:hello-unix          # server, in one terminal
 *   deno task example:hello-client        # client, in another
 *
 * The system calls behind each line, in the order the lecture teaches them:
 *
 *   socket(AF_UNIX, SOCK_STREAM, 0)  ┐
 *   bind(fd, {sun_path: PATH})       ├─ Deno.listen({ transport: "unix", path })
 *   listen(fd, backlog)              ┘  (Deno picks the backlog; there is no knob for it)
 *   accept(fd, ...)                  ─  `for await (const conn of listener)` / listener.accept()
 *   write(cfd, "Hello there!", 12)   ─  conn.write(bytes) — may write fewer bytes, so loop
 *   close(cfd)                       ─  conn.close(): the client's next read sees end of file
 *   close(fd) + unlink(PATH)         ─  listener.close() on SIGINT/SIGTERM, then remove the file
 *
 * A Unix socket's address is a path in the file system. bind() creates that file and it
 * outlives the socket unless somebody removes it: a server killed with SIGKILL leaves a
 * "stale" file behind and the next bind() fails with "address already in use". So this
 * server (1) removes a stale file at start, but only when nobody answers on it, and (2)
 * removes its own file when asked to stop with Ctrl-C (SIGINT) or `kill` (SIGTERM).
 * (Deno unlinks the path itself when the listener is closed; we check anyway, since C
 * programs have to call unlink() themselves and that is the lesson.)
 *
 * Usage: hello_unix.ts [PATH]   (default: example.sock in the current directory)
 * Permissions: --allow-read/--allow-write on PATH and --allow-net=unix:<absolute PATH>.
 */

const path = Deno.args[0] ?? "example.sock";
const greeting = new TextEncoder().encode("Hello there!");

/** True when PATH is a socket file that nobody is listening on (connect() is refused). */
async function isStale(path: string): Promise<boolean> {
  try {
    if (!Deno.lstatSync(path).isSocket) return false; // not ours to delete
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close(); // somebody answered: a live server owns this path
    return false;
  } catch (err) {
    if (err instanceof Deno.errors.ConnectionRefused) return true;
    throw err;
  }
}

/** write() may accept only part of the buffer; keep writing until all of it is gone. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

if (await isStale(path)) {
  Deno.removeSync(path);
  console.log(`removed stale socket file ${path}`);
}

let listener: Deno.Listener;
try {
  listener = Deno.listen({ transport: "unix", path }); // socket + bind + listen
} catch (err) {
  if (err instanceof Deno.errors.AddrInUse) {
    console.error(`${path} is in use: another server is listening on it`);
    Deno.exit(1);
  }
  throw err;
}

// Clean up on Ctrl-C and on `kill`: close the listening socket, remove the file, exit 0.
// Without a handler the default action of both signals kills the process on the spot and
// the socket file stays behind.
let stopping = false;
function stop(signal: Deno.Signal): void {
  if (stopping) return;
  stopping = true;
  listener.close(); // close(fd): ends the accept loop below
  try {
    Deno.removeSync(path); // unlink(PATH)
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err; // already gone: fine
  }
  console.log(`${signal}: removed ${path}, bye`);
}
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));

console.log(`hello_unix: listening on ${path} (Ctrl-C to stop)`);

let clients = 0;
try {
  for await (const conn of listener) { // accept(): one new connected socket per client
    clients++;
    try {
      await writeAll(conn, greeting);
      console.log(`client ${clients}: sent greeting`);
    } catch (err) {
      // The client may hang up before we write; that is its business, not a reason to stop.
      console.error(`client ${clients}: ${(err as Error).message}`);
    } finally {
      conn.close(); // close(cfd): the client's read() returns 0 (end of file)
    }
  }
} catch (err) {
  if (!stopping) throw err; // closing the listener mid-accept is how we stop
}
Deno.exit(0);
