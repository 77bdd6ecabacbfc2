/**
 * A stateful fuzz of live connections: random sequences of valid, pipelined, malformed and
 * partial requests and client resets against one server. After every sequence the server still
 * answers a normal request, and once it is quiescent it holds no more descriptors than before.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Client, readToEnd, startServer } from "../helpers.ts";
import { params, RUNS } from "../unit/fuzz/arbitraries.ts";
import { openFds, quiescent, resetAfter, send } from "./conn_fuzz_live.ts";

const BIG = new Uint8Array(1 << 20).fill(0x61);

async function handler(req: Request): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (path === "/big") return new Response(BIG);
  if (path === "/echo") return new Response(await req.text());
  if (path === "/stream") {
    // A body streamed in pieces, so a reset can land between two writes.
    let n = 0;
    return new Response(
      new ReadableStream({
        pull(controller) {
          if (n++ < 64) controller.enqueue(new Uint8Array(16 * 1024).fill(0x62));
          else controller.close();
        },
      }),
    );
  }
  return new Response("ok");
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: f\r\n\r\n`;

const MALFORMED = [
  "GET / HTTP/1.1\nHost: f\n\n",
  "GET / HTTP/1.1\r\nHost: f\r\nX: a\r\n b\r\n\r\n",
  "GET / HTTP/1.1\r\nHost : f\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: f\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: f\r\nContent-Length: -1\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  "GET / HTTP/9.9\r\nHost: f\r\n\r\n",
  "\0\0\0\r\n\r\n",
  `GET /${"a".repeat(9000)} HTTP/1.1\r\nHost: f\r\n\r\n`,
  "GET / HTTP/1.1\r\nHost: f\r\nX: \x01\r\n\r\n",
];

type Action =
  | { kind: "get"; path: string }
  | { kind: "post"; body: string; chunked: boolean }
  | { kind: "pipeline"; count: number }
  | { kind: "malformed"; index: number }
  | { kind: "partialHead"; cut: number }
  | { kind: "partialBody"; sent: number }
  | { kind: "reset"; path: "/big" | "/stream"; after: number }
  | { kind: "resetBeforeReading"; path: "/big" | "/stream" }
  | { kind: "closeIdle" };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constantFrom("/", "/a?b", "/x/y").map((path) => ({ kind: "get" as const, path })),
  fc.record({ kind: fc.constant("post" as const), body: fc.string(), chunked: fc.boolean() }),
  fc.record({ kind: fc.constant("pipeline" as const), count: fc.integer({ min: 2, max: 8 }) }),
  fc.record({
    kind: fc.constant("malformed" as const),
    index: fc.integer({ min: 0, max: MALFORMED.length - 1 }),
  }),
  fc.record({ kind: fc.constant("partialHead" as const), cut: fc.integer({ min: 1, max: 25 }) }),
  fc.record({ kind: fc.constant("partialBody" as const), sent: fc.integer({ min: 0, max: 9 }) }),
  fc.record({
    kind: fc.constant("reset" as const),
    path: fc.constantFrom("/big" as const, "/stream" as const),
    after: fc.integer({ min: 1, max: 200_000 }),
  }),
  fc.record({
    kind: fc.constant("resetBeforeReading" as const),
    path: fc.constantFrom("/big" as const, "/stream" as const),
  }),
  fc.constant({ kind: "closeIdle" as const }),
);

/** Runs one action; returns the client if its connection may carry the next action. */
async function perform(port: number, client: Client | null, a: Action): Promise<Client | null> {
  client ??= await Client.connect(port);
  switch (a.kind) {
    case "get": {
      await client.send(GET(a.path));
      const res = await client.response();
      assert.equal(res.status, 200);
      return client;
    }
    case "post": {
      const bytes = new TextEncoder().encode(a.body);
      const framing = a.chunked
        ? "Transfer-Encoding: chunked\r\n"
        : `Content-Length: ${bytes.length}\r\n`;
      const body = a.chunked
        ? (bytes.length ? `${bytes.length.toString(16)}\r\n${a.body}\r\n` : "") + "0\r\n\r\n"
        : a.body;
      await client.send(`POST /echo HTTP/1.1\r\nHost: f\r\n${framing}\r\n${body}`);
      const res = await client.response();
      assert.equal(res.status, 200);
      assert.equal(res.body, a.body);
      return client;
    }
    case "pipeline": {
      await client.send(Array.from({ length: a.count }, (_, i) => GET(`/p${i}`)).join(""));
      const responses = await client.responses(a.count);
      assert.deepEqual(responses.map((r) => r.status), Array(a.count).fill(200));
      return client;
    }
    case "malformed": {
      await client.send(MALFORMED[a.index]);
      const text = await client.rest();
      const status = Number(text.slice(9, 12));
      assert.ok(status >= 400 && status <= 599, text.slice(0, 40));
      client.close();
      return null;
    }
    case "partialHead": {
      const head = GET("/partial");
      await client.send(head.slice(0, Math.min(a.cut, head.length - 1)));
      await client.conn.closeWrite();
      assert.equal(await client.rest(), "", "a truncated head gets no answer, only the close");
      client.close();
      return null;
    }
    case "partialBody": {
      await client.send(`POST /echo HTTP/1.1\r\nHost: f\r\nContent-Length: 10\r\n\r\n`);
      await client.send("x".repeat(a.sent));
      await client.conn.closeWrite();
      const text = await client.rest();
      assert.match(text, /^HTTP\/1\.1 400 /, "a body cut short is a 400");
      client.close();
      return null;
    }
    case "reset": {
      await client.send(GET(a.path));
      await resetAfter(client.conn, a.after);
      return null;
    }
    case "resetBeforeReading": {
      await client.send(GET(a.path));
      // Wait for the first byte of the answer, then close with the rest unread: RST.
      await resetAfter(client.conn, 1);
      return null;
    }
    case "closeIdle": {
      client.close();
      return null;
    }
  }
}

Deno.test("fuzz conn: random sequences and resets cost nothing once the server is quiescent", async () => {
  await using s = startServer(handler);
  // A first request, so lazily opened resources (timers, the resolver) are in the baseline.
  const warm = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await send(warm, "GET / HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n");
  await readToEnd(warm);
  warm.close();
  await quiescent(s.server, Infinity);
  const baseline = await openFds();

  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 8 }), async (actions) => {
      let client: Client | null = null;
      try {
        for (const a of actions) client = await perform(s.port, client, a);
      } finally {
        client?.close();
      }
      // The server still answers a normal request.
      const probe = await Client.connect(s.port);
      await probe.send(GET("/probe"));
      assert.equal((await probe.response()).body, "ok");
      probe.close();
      await quiescent(s.server, baseline);
    }),
    params(RUNS / 10),
  );
});
