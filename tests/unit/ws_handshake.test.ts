/** The opening handshake (RFC 6455 §4.2) and permessage-deflate's negotiation and codecs. */
import assert from "node:assert/strict";
import fc from "fast-check";
import zlib from "node:zlib";
import { takeUpgrade } from "../../src/conn/upgrade.ts";
import {
  InflateLimitError,
  MessageDeflater,
  MessageInflater,
  negotiateDeflate,
} from "../../src/ws/deflate.ts";
import { acceptKey, checkHandshake, sha1 } from "../../src/ws/handshake.ts";
import { upgradeWebSocket } from "../../src/ws/upgrade_websocket.ts";

Deno.test("acceptKey answers RFC 6455's sample key with RFC 6455's answer", () => {
  assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("sha1 agrees with crypto.subtle across block boundaries", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (bytes) => {
      const expected = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
      assert.deepEqual(sha1(bytes), expected);
    }),
    { numRuns: 300 },
  );
});

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
function headers(extra: Record<string, string> = {}): Headers {
  return new Headers({
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": KEY,
    "sec-websocket-version": "13",
    ...extra,
  });
}

Deno.test("checkHandshake accepts a browser's request and answers with the accept key", () => {
  const result = checkHandshake("GET", headers({ connection: "keep-alive, Upgrade" }), {
    compression: false,
  });
  assert.deepEqual(result, {
    kind: "accept",
    headers: [
      ["upgrade", "websocket"],
      ["connection", "Upgrade"],
      ["sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
    ],
    protocol: "",
    deflate: null,
  });
});

const notUpgrades: [string, Record<string, string>, string][] = [
  ["no Upgrade", { upgrade: "" }, "'upgrade' header must contain 'websocket'"],
  ["Upgrade: h2c", { upgrade: "h2c" }, "'upgrade' header must contain 'websocket'"],
  ["no upgrade in Connection", { connection: "keep-alive" }, "'connection' header must contain"],
];
for (const [name, extra, message] of notUpgrades) {
  Deno.test(`checkHandshake throws TypeError as Deno does: ${name}`, () => {
    assert.throws(() => checkHandshake("GET", headers(extra), { compression: true }), (e) => {
      return e instanceof TypeError && e.message.includes(message);
    });
  });
}

Deno.test("checkHandshake throws TypeError as Deno does without a key", () => {
  const h = headers();
  h.delete("sec-websocket-key");
  assert.throws(() => checkHandshake("GET", h, { compression: true }), TypeError);
});

const refusals: [string, string, Record<string, string>, number][] = [
  ["version 8", "GET", { "sec-websocket-version": "8" }, 426],
  ["no version", "GET", { "sec-websocket-version": "" }, 426],
  ["a key of 15 bytes", "GET", { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ" }, 400],
  ["a key that is not base64", "GET", { "sec-websocket-key": "not a key at all!!!!!!==" }, 400],
  ["a key of 17 bytes", "GET", { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQAA" }, 400],
  ["POST", "POST", {}, 400],
];
for (const [name, method, extra, status] of refusals) {
  Deno.test(`checkHandshake answers ${status} to ${name}`, () => {
    const result = checkHandshake(method, headers(extra), { compression: true });
    assert.equal(result.kind, "reject");
    if (result.kind !== "reject") return;
    assert.equal(result.status, status);
    const version = new Map(result.headers).get("sec-websocket-version");
    assert.equal(version, status === 426 ? "13" : undefined);
  });
}

Deno.test("checkHandshake selects the protocol asked for only when the client offers it", () => {
  const offered = headers({ "sec-websocket-protocol": "chat.v1, chat.v2" });
  const result = checkHandshake("GET", offered, { protocol: "chat.v2", compression: false });
  assert.equal(result.kind === "accept" && result.protocol, "chat.v2");
  assert.ok(
    result.kind === "accept" &&
      result.headers.some(([n, v]) => n === "sec-websocket-protocol" && v === "chat.v2"),
  );
  const none = checkHandshake("GET", offered, { compression: false });
  assert.ok(none.kind === "accept" && !none.headers.some(([n]) => n === "sec-websocket-protocol"));
  assert.throws(
    () => checkHandshake("GET", offered, { protocol: "mqtt", compression: false }),
    TypeError,
  );
});

const offers: [string, string | null, string | null][] = [
  ["no offer", null, null],
  ["Firefox's offer", "permessage-deflate", "permessage-deflate"],
  ["Chromium's offer", "permessage-deflate; client_max_window_bits", "permessage-deflate"],
  [
    "server_no_context_takeover",
    "permessage-deflate; server_no_context_takeover",
    "permessage-deflate; server_no_context_takeover",
  ],
  [
    "server_max_window_bits=10",
    "permessage-deflate; server_max_window_bits=10",
    "permessage-deflate; server_max_window_bits=10",
  ],
  [
    "a quoted window size",
    'permessage-deflate; server_max_window_bits="12"',
    "permessage-deflate; server_max_window_bits=12",
  ],
  [
    "Autobahn's default offer",
    "permessage-deflate; client_no_context_takeover; client_max_window_bits",
    "permessage-deflate",
  ],
  [
    "client_max_window_bits=9",
    "permessage-deflate; client_max_window_bits=9",
    "permessage-deflate",
  ],
  ["an unknown extension only", "x-webkit-deflate-frame", null],
  ["an unknown parameter", "permessage-deflate; foo=1", null],
  [
    "a duplicated parameter",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    null,
  ],
  ["server_max_window_bits=8 (zlib cannot)", "permessage-deflate; server_max_window_bits=8", null],
  ["server_max_window_bits=16", "permessage-deflate; server_max_window_bits=16", null],
  ["server_max_window_bits without a value", "permessage-deflate; server_max_window_bits", null],
  ["client_no_context_takeover=1", "permessage-deflate; client_no_context_takeover=1", null],
  [
    "a declined offer, then an acceptable one",
    "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9",
    "permessage-deflate; server_max_window_bits=9",
  ],
  [
    "another extension first",
    "x-foo, PerMessage-Deflate; Server_No_Context_Takeover",
    "permessage-deflate; server_no_context_takeover",
  ],
];
for (const [name, offer, response] of offers) {
  Deno.test(`negotiateDeflate answers ${name}`, () => {
    assert.equal(negotiateDeflate(offer)?.response ?? null, response);
  });
}

Deno.test("negotiateDeflate's parameters are what the server's compressor must obey", () => {
  const agreement = negotiateDeflate(
    "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
  );
  assert.deepEqual(agreement?.params, { serverNoContextTakeover: true, serverMaxWindowBits: 9 });
});

const enc = new TextEncoder();
const TAIL = [0x00, 0x00, 0xff, 0xff];

Deno.test("MessageDeflater's output, with 00 00 ff ff put back, inflates to the message", async () => {
  const deflater = new MessageDeflater({ serverNoContextTakeover: false, serverMaxWindowBits: 15 });
  const message = enc.encode("a message that says a message twice: a message that says".repeat(4));
  const first = await deflater.compress(message);
  const second = await deflater.compress(message);
  deflater.close();
  assert.notDeepEqual([...first.subarray(-4)], TAIL, "the sync flush's tail is removed");
  assert.ok(second.length < first.length, "the second refers back to the first (context kept)");
  const inflate = zlib.createInflateRaw();
  const out = (bytes: Uint8Array) =>
    new Promise<Uint8Array>((resolve) => {
      const chunks: Uint8Array[] = [];
      inflate.on("data", (c: Uint8Array) => chunks.push(c));
      inflate.write(new Uint8Array([...bytes, ...TAIL]));
      inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        inflate.removeAllListeners("data");
        resolve(new Uint8Array(chunks.flatMap((c) => [...c])));
      });
    });
  assert.deepEqual(await out(first), message);
  assert.deepEqual(await out(second), message);
  inflate.close();
});

Deno.test("MessageDeflater without context takeover compresses each message alike", async () => {
  const deflater = new MessageDeflater({ serverNoContextTakeover: true, serverMaxWindowBits: 9 });
  const message = enc.encode("the same words again and again, the same words again".repeat(3));
  const first = await deflater.compress(message);
  const second = await deflater.compress(message);
  deflater.close();
  assert.deepEqual(second, first);
  assert.deepEqual(
    new Uint8Array(zlib.inflateRawSync(new Uint8Array([...second, ...TAIL]), {
      windowBits: 9,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    })),
    message,
  );
});

Deno.test("MessageInflater inflates fragments of a message and keeps its context", async () => {
  const inflater = new MessageInflater();
  const deflater = new MessageDeflater({ serverNoContextTakeover: false, serverMaxWindowBits: 15 });
  const message = enc.encode("fragmented and compressed, fragmented and compressed".repeat(5));
  for (let round = 0; round < 3; round++) {
    const compressed = await deflater.compress(message);
    const cut = Math.floor(compressed.length / 2);
    const a = await inflater.inflate(compressed.subarray(0, cut), false, 1 << 20);
    const b = await inflater.inflate(compressed.subarray(cut), true, 1 << 20);
    assert.deepEqual(new Uint8Array([...a, ...b]), message);
  }
  deflater.close();
  inflater.close();
});

Deno.test("MessageInflater stops a zip bomb at its limit", async () => {
  const bomb = zlib.deflateRawSync(new Uint8Array(64 * 1024 * 1024), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const inflater = new MessageInflater();
  await assert.rejects(
    inflater.inflate(new Uint8Array(bomb.subarray(0, bomb.length - 4)), true, 1 << 20),
    InflateLimitError,
  );
  inflater.close();
});

Deno.test("MessageInflater rejects data that is not deflate", async () => {
  const inflater = new MessageInflater();
  await assert.rejects(inflater.inflate(new Uint8Array([0xff, 0xff, 0xff]), true, 1000));
  inflater.close();
});

Deno.test("upgradeWebSocket claims a 101 with the handshake's fields", () => {
  const request = new Request("http://localhost/chat", { headers: headers() });
  const { socket, response } = upgradeWebSocket(request);
  assert.equal(response.status, 101);
  assert.equal(response.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(socket.readyState, WebSocket.CONNECTING);
  assert.equal(typeof takeUpgrade(response), "function");
  assert.equal(takeUpgrade(response), undefined, "a claim is taken once");
});

Deno.test("upgradeWebSocket throws the TypeError Deno.upgradeWebSocket throws for a plain GET", () => {
  const request = new Request("http://localhost/");
  assert.throws(() => upgradeWebSocket(request), {
    name: "TypeError",
    message: "Invalid Header: 'upgrade' header must contain 'websocket'",
  });
});

Deno.test("upgradeWebSocket refuses version 8 with 426, and its socket closes unopened", async () => {
  const request = new Request("http://localhost/", {
    headers: headers({ "sec-websocket-version": "8" }),
  });
  const { socket, response } = upgradeWebSocket(request);
  assert.equal(response.status, 426);
  assert.equal(response.headers.get("sec-websocket-version"), "13");
  assert.equal(takeUpgrade(response), undefined);
  assert.equal(socket.readyState, WebSocket.CLOSED);
  const events: string[] = [];
  socket.onerror = () => events.push("error");
  const closed = new Promise<CloseEvent>((resolve) => socket.onclose = resolve);
  assert.equal((await closed).code, 1006);
  assert.deepEqual(events, ["error"]);
  await response.body?.cancel();
});

Deno.test("upgradeWebSocket checks its options", () => {
  const request = () => new Request("http://localhost/", { headers: headers() });
  assert.throws(() => upgradeWebSocket(request(), { idleTimeout: -1 }), TypeError);
  assert.throws(() => upgradeWebSocket(request(), { maxMessageBytes: 1.5 }), TypeError);
  assert.throws(() => upgradeWebSocket(request(), { compression: { threshold: -1 } }), TypeError);
});
