/** examples/udp_echo.ts and examples/udp_client.ts over real UDP sockets on 127.0.0.1. */
import assert from "node:assert/strict";
import { deadline, encode, Example, runClient } from "../examples_helpers.ts";

const SERVER = "example:udp-echo";
const CLIENT = "example:udp-client";

function bind(): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
}

async function receive(socket: Deno.DatagramConn, count: number): Promise<[string, number][]> {
  const got: [string, number][] = [];
  const decoder = new TextDecoder();
  while (got.length < count) {
    const [data, from] = await deadline(socket.receive(), `datagram ${got.length + 1} of ${count}`);
    got.push([decoder.decode(data), (from as Deno.NetAddr).port]);
  }
  return got;
}

Deno.test("udp_echo sends every datagram back whole: boundaries are preserved", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const target: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const socket = bind();
  try {
    // Sent back to back; a stream would be free to glue these together or split them.
    const sent = ["one", "", "x".repeat(8000), "two\nthree"];
    for (const message of sent) await socket.send(encode(message), target);
    const got = await receive(socket, sent.length);
    assert.deepEqual(
      got.map(([, from]) => from),
      sent.map(() => port),
      "replies come from the server",
    );
    // Loopback keeps the order in practice, but UDP does not promise it: compare as sets.
    assert.deepEqual(got.map(([text]) => text).sort(), [...sent].sort());
  } finally {
    socket.close();
  }
  await server.waitFor(/^8000 bytes from 127\.0\.0\.1:\d+$/);
  await server.waitFor(/^0 bytes from 127\.0\.0\.1:\d+$/);
  const { code, stdout } = await server.stop("SIGTERM");
  assert.equal(code, 0);
  assert.match(stdout, /SIGTERM: closed the socket, bye/);
});

Deno.test("udp_echo answers each sender at its own address", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const target: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  const [a, b] = [bind(), bind()];
  try {
    await a.send(encode("from a"), target);
    await b.send(encode("from b"), target);
    assert.deepEqual(await receive(b, 1), [["from b", port]]);
    assert.deepEqual(await receive(a, 1), [["from a", port]]);
  } finally {
    a.close();
    b.close();
  }
  assert.equal((await server.stop("SIGINT")).code, 0);
});

Deno.test("udp_client sends each argument as one datagram and prints the echoes", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = String(await server.listeningPort());
  const client = await runClient(CLIENT, ["--port", port, "one", "two words", "three"]);
  assert.equal(client.code, 0, client.stderr);
  assert.deepEqual(client.stdout.split("\n").sort(), ["", "one", "three", "two words"]);
  assert.equal((await server.stop("SIGTERM")).code, 0);
});

Deno.test("udp_client gives up after its timeout when nobody answers", async () => {
  const probe = bind();
  const port = String((probe.addr as Deno.NetAddr).port);
  probe.close(); // nothing receives on that port now; the datagram is simply dropped
  const client = await runClient(CLIENT, ["--port", port, "--timeout", "200", "hello?"]);
  assert.equal(client.code, 1);
  assert.equal(client.stdout, "");
  assert.match(client.stderr, /^0 of 1 replies within 200 ms/);
});
