/**
 * udp_client.ts — send each argument as one datagram to udp_echo.ts, print the replies.
 *
 *   deno task example:udp-client one two three         # (needs --unstable-net)
 *
 * The system calls behind each line:
 *
 *   socket(AF_INET, SOCK_DGRAM, 0)   ┐
 *   bind(fd, {127.0.0.1, 0})         ┘─ Deno.listenDatagram({ transport: "udp", port: 0 })
 *                                       (port 0: the kernel picks one, as an implicit bind would;
 *                                       the server replies to this address)
 *   sendto(fd, msg, n, 0, &server)   ─  socket.send(bytes, server)
 *   recvfrom(fd, buf, n, 0, &from)   ─  socket.receive() → [bytes, from]
 *   close(fd)                        ─  socket.close()
 *
 * All messages are sent first, back to back, and then the replies are collected: with
 * datagrams this is safe, because each reply comes back as its own message (a TCP client
 * doing the same could get the answers glued together). UDP promises nothing else, though:
 * replies may be lost or arrive in another order, and a datagram may come from anyone who
 * knows our port — so we check the sender, and give up after --timeout milliseconds.
 *
 * Usage: udp_client.ts [--host 127.0.0.1] [--port 9002] [--timeout 1000] [MESSAGE...]
 * Prints one line per reply; exits 1 when some replies did not come back in time.
 */
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9002" },
    timeout: { type: "string", default: "1000" },
  },
});
const messages = positionals.length > 0 ? positionals : ["Hello there!"];
const server: Deno.NetAddr = { transport: "udp", hostname: values.host, port: Number(values.port) };

// Bind where the server can answer: the loopback address for a local server, else any address.
const ipv6 = values.host.includes(":");
const loopback = values.host === "127.0.0.1" || values.host === "::1" ||
  values.host === "localhost";
const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: loopback ? (ipv6 ? "::1" : "127.0.0.1") : (ipv6 ? "::" : "0.0.0.0"),
  port: 0,
});

const encoder = new TextEncoder();
for (const message of messages) await socket.send(encoder.encode(message), server);

// There is no receive timeout in the API: closing the socket makes a pending receive() fail.
let timedOut = false;
const timer = setTimeout(() => {
  timedOut = true;
  socket.close();
}, Number(values.timeout));

const decoder = new TextDecoder();
let replies = 0;
try {
  while (replies < messages.length) {
    const [data, from] = await socket.receive();
    const peer = from as Deno.NetAddr;
    if (peer.port !== server.port) continue; // not from our server: ignore it
    replies++;
    console.log(decoder.decode(data));
  }
} catch (err) {
  if (!timedOut) throw err;
}
clearTimeout(timer);
if (!timedOut) socket.close();

if (replies < messages.length) {
  console.error(
    `${replies} of ${messages.length} replies within ${values.timeout} ms` +
      ` (is udp_echo.ts running on ${values.host}:${values.port}? UDP does not retransmit)`,
  );
  Deno.exit(1);
}
