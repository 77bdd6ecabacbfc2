/**
 * The session over an in-memory channel that hands out exactly the chunks a test cuts: messages
 * (fragmented, compressed or not, with pings between fragments) arrive whole and in order however
 * the stream is split, and each ping's pong carries its payload.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import zlib from "node:zlib";
import type { ByteChannel } from "../../src/conn/upgrade.ts";
import {
  encodeFrame,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  parseFrame,
} from "../../src/ws/frame.ts";
import type { Message } from "../../src/ws/message.ts";
import { Session } from "../../src/ws/session.ts";

/** A channel that reads the given chunks (through one reused buffer, as a socket reader does). */
class ScriptedChannel implements ByteChannel {
  readonly written: Uint8Array[] = [];
  onShutdown: (() => void) | null = null;
  #chunks: Uint8Array[];
  #buffer = new Uint8Array(64 * 1024);
  #close!: () => void;
  readonly closed = new Promise<void>((resolve) => this.#close = resolve);

  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks;
  }

  async read(): Promise<Uint8Array | null> {
    const chunk = this.#chunks.shift();
    if (chunk === undefined) {
      await this.closed;
      return null;
    }
    if (this.#buffer.length < chunk.length) this.#buffer = new Uint8Array(chunk.length);
    this.#buffer.fill(0xee); // what the last read left is overwritten, as a reused buffer is
    this.#buffer.set(chunk);
    return this.#buffer.subarray(0, chunk.length);
  }

  write(bytes: Uint8Array): Promise<void> {
    this.written.push(bytes.slice());
    return Promise.resolve();
  }

  close(): void {
    this.#close();
  }
}

const MASK = new Uint8Array([1, 2, 3, 4]);
const TAIL = 4;

interface Drawn {
  binary: boolean;
  data: Uint8Array;
  compressed: boolean;
  /** Cut points inside the (possibly compressed) payload: one fragment between each. */
  cuts: number[];
  /** A ping's payload after the first fragment, or null. */
  ping: Uint8Array | null;
}

const utf8 = new TextEncoder();
const message = fc.record({
  binary: fc.boolean(),
  text: fc.string({ unit: "grapheme", maxLength: 40 }),
  bytes: fc.uint8Array({ maxLength: 300 }),
  compressed: fc.boolean(),
  cuts: fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 3 }),
  ping: fc.option(fc.uint8Array({ maxLength: 125 })),
}).map((m): Drawn => ({
  binary: m.binary,
  data: m.binary ? m.bytes : utf8.encode(m.text),
  compressed: m.compressed,
  cuts: m.cuts,
  ping: m.ping,
}));

/** The client's frames for `drawn`: compressed payloads without their 00 00 ff ff tail. */
function framesOf(drawn: Drawn): Uint8Array[] {
  let payload = drawn.data;
  if (drawn.compressed) {
    const deflated = zlib.deflateRawSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    payload = new Uint8Array(deflated.subarray(0, deflated.length - TAIL));
  }
  const points = [0, ...drawn.cuts.filter((c) => c < payload.length).sort((a, b) => a - b)];
  const frames: Uint8Array[] = [];
  points.forEach((point, i) => {
    const last = i === points.length - 1;
    const opcode = i > 0 ? OP_CONTINUATION : drawn.binary ? OP_BINARY : OP_TEXT;
    const piece = payload.subarray(point, last ? payload.length : points[i + 1]);
    frames.push(
      encodeFrame(opcode, piece, { fin: last, rsv1: i === 0 && drawn.compressed, mask: MASK }),
    );
    if (i === 0 && drawn.ping !== null) {
      frames.push(encodeFrame(OP_PING, drawn.ping, { mask: MASK }));
    }
  });
  return frames;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Runs a session over `stream` cut at `cuts`; returns its messages and the pongs it wrote. */
async function run(stream: Uint8Array, cuts: number[]) {
  const points = [0, ...cuts, stream.length];
  const chunks = points.slice(1).map((p, i) => stream.subarray(points[i], p));
  const channel = new ScriptedChannel(chunks);
  const messages: Message[] = [];
  const closed = new Promise<number>((resolve) => {
    const session = new Session(channel, {
      maxMessageBytes: 1 << 20,
      pingAfterMs: 0,
      closeTimeoutMs: 1000,
      deflate: { serverNoContextTakeover: false, serverMaxWindowBits: 15 },
      compressThreshold: 1 << 20,
    }, {
      message: (data) => messages.push(data),
      error: (reason) => assert.fail(reason),
      closed: (code) => resolve(code),
    });
    session.start();
  });
  assert.equal(await closed, 1000);
  const written = concat(channel.written);
  const pongs: Uint8Array[] = [];
  for (let at = 0; at < written.length;) {
    const parsed = parseFrame(written, at, written.length, {
      masked: false,
      rsv1: false,
      maxPayload: 1 << 20,
    });
    assert.equal(parsed.kind, "frame");
    if (parsed.kind !== "frame") break;
    if (parsed.frame.opcode === OP_PONG) pongs.push(parsed.frame.payload.slice());
    at += parsed.consumed;
  }
  return { messages, pongs };
}

const close1000 = encodeFrame(OP_CLOSE, new Uint8Array([0x03, 0xe8]), { mask: MASK });
const expectedOf = (drawn: Drawn[]) =>
  drawn.map((d) => d.binary ? [...d.data] : new TextDecoder().decode(d.data));
const asComparable = (messages: Message[]) =>
  messages.map((m) => typeof m === "string" ? m : [...new Uint8Array(m)]);

Deno.test("messages arrive whole and in order however the stream is cut", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(message, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      async (drawn, rawCuts) => {
        const stream = concat([...drawn.flatMap(framesOf), close1000]);
        const cuts = [...new Set(rawCuts.map((c) => 1 + (c % (stream.length - 1))))].sort((a, b) =>
          a - b
        );
        const { messages, pongs } = await run(stream, cuts);
        assert.deepEqual(asComparable(messages), expectedOf(drawn));
        assert.deepEqual(pongs, drawn.flatMap((d) => d.ping === null ? [] : [d.ping]));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("a stream cut at every byte boundary delivers the same messages", async () => {
  const drawn: Drawn[] = [
    {
      binary: false,
      data: utf8.encode("κόσμε, fragmented"),
      compressed: false,
      cuts: [3, 9],
      ping: utf8.encode("p"),
    },
    {
      binary: true,
      data: new Uint8Array(200).map((_, i) => i),
      compressed: true,
      cuts: [7],
      ping: null,
    },
    {
      binary: false,
      data: utf8.encode("compressed text ".repeat(8)),
      compressed: true,
      cuts: [],
      ping: null,
    },
  ];
  const stream = concat([...drawn.flatMap(framesOf), close1000]);
  for (let cut = 1; cut < stream.length; cut++) {
    const { messages } = await run(stream, [cut]);
    assert.deepEqual(asComparable(messages), expectedOf(drawn), `cut at ${cut}`);
  }
});
