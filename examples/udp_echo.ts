/**
 * udp_echo.ts — a datagram server: every datagram that arrives is sent straight back to
 * whoever sent it. No connections, no accept(), no end of file.
 *
 *   deno task example:udp-echo                         # 127.0.0.1:9002 (needs --unstable-net)
 *   deno task example:udp-client one two three
 *
 * The system calls behind each line:
 *
 *   socket(AF_INET, SOCK_DGRAM, 0)   ┐
 *   bind(fd, {127.0.0.1, port})      ┘─ Deno.listenDatagram({ transport: "udp", hostname, port })
 *   (no listen, no accept)              a datagram socket has no connections to queue
 *   recvfrom(fd, buf, n, 0, &from)   ─  const [data, from] = await socket.receive()
 *   sendto(fd, data, n, 0, &from)    ─  await socket.send(data, from)
 *   close(fd)                        ─  socket.close()
 *
 * Compare with the stream servers:
 * - Message boundaries are kept. One send() on the client is one datagram here: receive()
 *   returns it whole (up to 65 507 bytes over IPv4), never half of one or two glued together.
 *   An empty datagram is a real message of length 0 — not "end of file" as for a stream.
 * - There is no connection, so there is no "client" object: every datagram carries its
 *   sender's address (recvfrom's `from`), and the reply is addressed with it (sendto).
 *   One socket serves every client, one datagram at a time.
 * - Nothing is guaranteed: a datagram can be lost, duplicated or overtaken by a later one.
 *   If the reply is lost the client never hears back — udp_client.ts therefore gives up
 *   after a timeout instead of waiting forever.
 *
 * Usage: udp_echo.ts [--host 127.0.0.1] [--port 9002]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9002" },
  },
});

const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: values.host,
  port: Number(values.port),
});
const addr = socket.addr as Deno.NetAddr;

let stopping = false;
function stop(signal: Deno.Signal): void {
  if (stopping) return;
  stopping = true;
  socket.close(); // ends the receive loop below
  console.log(`${signal}: closed the socket, bye`);
}
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));

console.log(`udp_echo: listening on ${addr.hostname}:${addr.port}`);

try {
  for (;;) {
    const [data, from] = await socket.receive(); // recvfrom(): one whole datagram + sender
    const peer = from as Deno.NetAddr;
    console.log(`${data.length} bytes from ${peer.hostname}:${peer.port}`);
    await socket.send(data, from); // sendto(): the same bytes back, as one datagram
  }
} catch (err) {
  if (!stopping) throw err;
}
Deno.exit(0);
