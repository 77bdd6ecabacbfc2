/**
 * The idle-connection tool's response reader (bench/idle_client.ts) over a real loopback socket:
 * a complete 2xx answer with a Content-Length, however it is split, is one answered request;
 * anything else is a failure with a message that says why.
 */

import assert from "node:assert/strict";
import { p99, readResponse } from "../../bench/idle_client.ts";

const HELLO =
  "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, World!";

/**
 * Connects to a listener that writes `pieces` one write each (then closes if `close`), and runs
 * readResponse on the client side.
 */
async function readFrom(pieces: string[], close = false): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await listener.accept();
    try {
      for (const piece of pieces) await conn.write(new TextEncoder().encode(piece));
      // Without close, wait for the client to finish reading (it closes its end).
      if (!close) await conn.read(new Uint8Array(1)).catch(() => null);
    } finally {
      conn.close();
    }
  })();
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  try {
    await readResponse(client);
  } finally {
    client.close();
    await served;
  }
}

Deno.test("readResponse: a complete 200 with a Content-Length is an answer", async () => {
  await readFrom([HELLO]);
});

Deno.test("readResponse: the same answer in pieces split inside the head and the body", async () => {
  await readFrom([HELLO.slice(0, 7), HELLO.slice(7, 60), HELLO.slice(60, 70), HELLO.slice(70)]);
});

const FAILURES = [
  {
    name: "a 503",
    pieces: ["HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n"],
    message: /answered HTTP\/1.1 503/,
  },
  {
    name: "an answer without a Content-Length",
    pieces: [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nd\r\nHello, World!\r\n0\r\n\r\n",
    ],
    message: /without a Content-Length/,
  },
  { name: "a close before any byte", pieces: [], close: true, message: /closed without answering/ },
  {
    name: "a close mid-body",
    pieces: [HELLO.slice(0, -3)],
    close: true,
    message: /closed mid-response/,
  },
];

for (const { name, pieces, close, message } of FAILURES) {
  Deno.test(`readResponse: ${name} is a failure`, async () => {
    await assert.rejects(readFrom(pieces, close), message);
  });
}

Deno.test("p99: the nearest-rank 99th percentile, NaN without samples", () => {
  assert.equal(p99(Array.from({ length: 100 }, (_, i) => i + 1)), 99);
  assert.equal(p99([5]), 5);
  assert.ok(Number.isNaN(p99([])));
});
