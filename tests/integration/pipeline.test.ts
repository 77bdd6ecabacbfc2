/**
 * No answer held back, none lost: whatever the reader's buffer holds after a request — nothing,
 * part of the next request, an empty line — every answer that is ready leaves before the
 * connection waits on the socket again, and a timeout that follows never drops one.
 *
 * The server's timeouts are short, so that an answer held back fails the test in seconds (as a
 * 408 or a 503 where a 200 was due) instead of hanging it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { handler } from "../fixtures/parity_handler.ts";
import { Client, parseResponses, readToEnd, startServer } from "../helpers.ts";
import {
  CRLF,
  deliver,
  everyByte,
  everySplit,
  getPiece,
  layout,
  MIXED_BATCH,
  postPiece,
  segmentedBatch,
} from "../segmented.ts";

/** Short enough that a held answer fails fast, long enough for a loaded machine. */
const LIMITS = { headersTimeout: 3_000, requestTimeout: 3_000 };

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

Deno.test("a pipelined batch cut in two at every offset: each answer leaves before the rest is sent", async () => {
  await using s = startServer(handler, { limits: LIMITS });
  for (const cuts of everySplit(layout(MIXED_BATCH).bytes)) {
    await deliver(s.port, MIXED_BATCH, cuts);
  }
});

Deno.test("a pipelined batch sent one byte at a time: each answer leaves once its request is complete", async () => {
  await using s = startServer(handler, { limits: LIMITS });
  await deliver(s.port, MIXED_BATCH, everyByte(layout(MIXED_BATCH).bytes));
});

Deno.test("random pipelined batches cut at random offsets: every answer, in order, at once", async () => {
  await using s = startServer(handler, { limits: LIMITS });
  await fc.assert(
    fc.asyncProperty(segmentedBatch, ({ pieces, cuts }) => deliver(s.port, pieces, cuts)),
    { numRuns: 60 },
  );
});

Deno.test("a request followed by an empty line is answered at once, after a GET and after a POST body", async () => {
  await using s = startServer(handler, { limits: LIMITS });
  await deliver(s.port, [getPiece(7), CRLF], []);
  await deliver(s.port, [postPiece("body"), CRLF], []);
  await deliver(s.port, [postPiece("body"), CRLF, CRLF, getPiece(8), CRLF], []);
});

Deno.test("a request and the first byte of the next: the answer leaves, then the 408, then the close", async () => {
  await using s = startServer(handler, { limits: { headersTimeout: 200 } });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  try {
    await conn.write(encoder.encode(getPiece(1).bytes + "G"));
    const responses = parseResponses(latin1.decode(await readToEnd(conn)));
    assert.deepEqual(responses.map((r) => r.status), [200, 408]);
    assert.equal(responses[0].body, getPiece(1).answer);
    assert.equal(responses[1].headers.get("connection"), "close");
  } finally {
    conn.close();
  }
});

Deno.test("an idle connection that only gets empty lines closes at keepAliveTimeout, quietly", async () => {
  // The head timeout is far longer: an empty line neither starts a head nor restarts the wait.
  await using s = startServer(handler, {
    limits: { keepAliveTimeout: 150, headersTimeout: 60_000 },
  });
  const client = await Client.connect(s.port);
  try {
    await client.send(getPiece(1).bytes);
    assert.equal((await client.response()).status, 200);
    // A drip of empty lines, as fast as the socket takes them, until the server closes.
    const rest = client.rest();
    let closed = false;
    rest.finally(() => closed = true);
    const start = performance.now();
    while (!closed && performance.now() - start < 5_000) {
      try {
        await client.send("\r\n");
      } catch {
        break; // the server closed while the empty line was on its way
      }
      await Promise.resolve();
    }
    assert.equal(await rest, "", "nothing is sent to an idle connection that closes");
    assert.ok(performance.now() - start < 5_000, "the empty lines kept the connection open");
  } finally {
    client.close();
  }
});
