/**
 * hello_client.ts — the client half of hello_unix.ts: connect to the local socket, read
 * everything the server sends until it hangs up, print it.
 *
 *   deno task example:hello-client        # with `deno task example:hello-unix` running
 *
 * The system calls behind each line:
 *
 *   socket(AF_UNIX, SOCK_STREAM, 0)  ┐
 *   connect(fd, {sun_path: PATH})    ┘─ Deno.connect({ transport: "unix", path })
 *   read(fd, buf, n) until it is 0   ─  conn.read(buf) until it returns null (end of file)
 *   close(fd)                        ─  conn.close()
 *
 * A client does not bind(): connect() gives the socket a (nameless) address of its own.
 * The loop matters: read() returns *at most* n bytes — whatever has arrived so far — and a
 * stream has no message boundaries, so a 12-byte greeting may come in one read or in twelve.
 * Only end of file (the server's close) says that the message is complete.
 *
 * Usage: hello_client.ts [PATH]   (default: example.sock in the current directory)
 */

const path = Deno.args[0] ?? "example.sock";

let conn: Deno.UnixConn;
try {
  conn = await Deno.connect({ transport: "unix", path }); // socket + connect
} catch (err) {
  if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.ConnectionRefused) {
    console.error(`no server at ${path}: start one with \`deno task example:hello-unix\``);
    Deno.exit(1);
  }
  throw err;
}

const chunks: Uint8Array[] = [];
const buf = new Uint8Array(1024);
for (;;) {
  const n = await conn.read(buf); // read(): at most buf.length bytes; null means end of file
  if (n === null) break;
  chunks.push(buf.slice(0, n)); // copy: buf is reused by the next read
}
conn.close();

const received = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
let offset = 0;
for (const c of chunks) {
  received.set(c, offset);
  offset += c.length;
}
console.log(new TextDecoder().decode(received));
