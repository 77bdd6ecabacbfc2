/** The read-until-full loop and write gathering, over sources that return a few bytes per read. */
import assert from "node:assert/strict";
import { BufferedReader } from "../../src/io/reader.ts";
import { BufferedWriter, MAX_WRITE_BYTES, writeAll } from "../../src/io/writer.ts";
import { concatBytes, indexOfSequence } from "../../src/io/bytes.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A byte source whose reads return at most `step` bytes, counting how often it was read. */
function source(text: string, step: number) {
  const data = encoder.encode(text);
  let off = 0;
  const src = {
    reads: 0,
    read(p: Uint8Array): Promise<number | null> {
      src.reads++;
      if (off >= data.length) return Promise.resolve(null);
      const n = Math.min(step, p.length, data.length - off);
      p.set(data.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
  };
  return src;
}

for (const step of [1, 2, 7, 1000]) {
  Deno.test(`readUntil finds delimiters across reads of ${step} bytes`, async () => {
    const reader = new BufferedReader(source("one\r\ntwo\r\n\r\nthree", step), 4);
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await reader.readUntil("\r\n", 100);
      assert.equal(r.status, "found");
      if (r.status === "found") texts.push(decoder.decode(r.bytes));
    }
    assert.deepEqual(texts, ["one\r\n", "two\r\n", "\r\n"]);
    const last = await reader.readUntil("\r\n", 100);
    assert.equal(last.status, "truncated");
    assert.equal(last.status === "truncated" && decoder.decode(last.bytes), "three");
    assert.deepEqual(await reader.readUntil("\r\n", 100), { status: "eof" });
  });
}

Deno.test("readUntil: the limit is a distinct outcome and consumes nothing", async () => {
  const reader = new BufferedReader(source("abcdefghij\n", 3), 4);
  assert.deepEqual(await reader.readUntil("\n", 5), { status: "limit" });
  assert.ok(reader.buffered >= 5);
  const r = await reader.readUntil("\n", 100);
  assert.equal(r.status === "found" && decoder.decode(r.bytes), "abcdefghij\n");
});

Deno.test("readUntil: a delimiter exactly at the limit is found", async () => {
  const reader = new BufferedReader(source("abc\r\n", 1));
  const r = await reader.readUntil("\r\n", 5);
  assert.equal(r.status, "found");
});

Deno.test("readFull: exact counts across reads, larger than the buffer, and EOF outcomes", async () => {
  const reader = new BufferedReader(source("x".repeat(100) + "tail", 9), 8);
  const r = await reader.readFull(100);
  assert.equal(r.status, "full");
  assert.equal(r.status === "full" && r.bytes.length, 100);
  const cut = await reader.readFull(10);
  assert.equal(cut.status === "truncated" && decoder.decode(cut.bytes), "tail");
  assert.deepEqual(await reader.readFull(1), { status: "eof" });
});

Deno.test("readSome: serves what is buffered before reading again", async () => {
  const src = source("hello world", 100);
  const reader = new BufferedReader(src);
  assert.equal(decoder.decode((await reader.readSome(5))!), "hello");
  const readsBefore = src.reads;
  assert.equal(decoder.decode((await reader.readSome(100))!), " world");
  assert.equal(src.reads, readsBefore, "no socket read while bytes were buffered");
  assert.equal(await reader.readSome(1), null);
});

Deno.test("indexOfSequence: table", () => {
  const hay = encoder.encode("aa\r\r\n\r\nbb");
  const cases: [string, number, number, number][] = [
    ["\r\n\r\n", 0, hay.length, 3],
    ["\r\n", 0, hay.length, 3],
    ["\r\n", 4, hay.length, 5],
    ["bb", 0, hay.length, 7],
    ["bb", 0, 8, -1],
    ["zz", 0, hay.length, -1],
  ];
  for (const [needle, from, to, expected] of cases) {
    assert.equal(indexOfSequence(hay, encoder.encode(needle), from, to), expected, needle);
  }
});

Deno.test("writeAll: every byte in order, no write over MAX_WRITE_BYTES, a small one as given", async () => {
  const max = MAX_WRITE_BYTES;
  // [bytes, most a write takes, the sizes the sink is offered]
  const table: [number, number, number[]][] = [
    [0, Infinity, []],
    [10, Infinity, [10]],
    [10, 4, [10, 6, 2]],
    [max, Infinity, [max]],
    [max + 1, Infinity, [max, 1]],
    [3 * max + 5, Infinity, [max, max, max, 5]],
    [2 * max, max - 1, [max, max, 2]], // a partial write: the rest follows, still capped
  ];
  for (const [length, takes, offered] of table) {
    const bytes = new Uint8Array(length).map((_, i) => i % 251);
    const sizes: number[] = [];
    const got: Uint8Array[] = [];
    const sink = {
      write(p: Uint8Array): Promise<number> {
        sizes.push(p.length);
        if (sizes.length === 1 && length <= max) assert.equal(p, bytes, "a small write is no view");
        const n = Math.min(p.length, takes);
        got.push(p.slice(0, n));
        return Promise.resolve(n);
      },
    };
    await writeAll(sink, bytes);
    assert.deepEqual(sizes, offered, `${length} bytes, ${takes} a write`);
    assert.deepEqual(concatBytes(got), bytes);
  }
});

Deno.test("BufferedWriter: gathers pushes into one write and survives partial writes", async () => {
  const writes: Uint8Array[] = [];
  const sink = {
    write(p: Uint8Array): Promise<number> {
      const n = Math.min(p.length, 3); // the socket takes 3 bytes at a time
      writes.push(p.slice(0, n));
      return Promise.resolve(n);
    },
  };
  const writer = new BufferedWriter(sink);
  await writer.push(encoder.encode("HTTP/1.1 200 OK\r\n"));
  await writer.push(encoder.encode("\r\nbody"));
  assert.equal(writes.length, 0, "nothing written before flush");
  await writer.flush();
  assert.equal(decoder.decode(concatBytes(writes)), "HTTP/1.1 200 OK\r\n\r\nbody");
  assert.equal(writer.pendingBytes, 0);
});

Deno.test("BufferedWriter: a flush while a write is in flight waits for it; writes leave one at a time, in order", async () => {
  const writes: string[] = [];
  const finishers: ((n: number) => void)[] = [];
  let inFlight = 0;
  const sink = {
    write(p: Uint8Array): Promise<number> {
      assert.equal(inFlight++, 0, "a second write began before the first ended");
      writes.push(decoder.decode(p));
      return new Promise((resolve) =>
        finishers.push((n) => {
          inFlight--;
          resolve(n);
        })
      );
    },
  };
  const writer = new BufferedWriter(sink);
  writer.queue(encoder.encode("one"));
  const first = writer.flush();
  writer.queue(encoder.encode("two"));
  const second = writer.flush();
  // Nothing queued: the flush still ends only once everything before it is written.
  const third = writer.flush();
  let thirdDone = false;
  third.then(() => thirdDone = true);
  await Promise.resolve();
  assert.deepEqual(writes, ["one"]);
  finishers.shift()!(3);
  await first;
  // "two" leaves once "one" has (its flush waited on the first one's promise, before this test
  // did); the empty flush is still waiting for it.
  assert.deepEqual(writes, ["one", "two"]);
  assert.equal(thirdDone, false);
  finishers.shift()!(3);
  await second;
  await third;
  assert.equal(writer.bytesWritten, 6);
});

Deno.test("BufferedWriter: flushes of the same length in a row, with other bytes each time, send those bytes", async () => {
  const writes: string[] = [];
  const views: Uint8Array[] = [];
  const writer = new BufferedWriter({
    write(p: Uint8Array): Promise<number> {
      writes.push(decoder.decode(p));
      views.push(p);
      return Promise.resolve(p.length);
    },
  });
  for (const text of ["aaa", "bbb", "cc", "ddd"]) {
    writer.queue(encoder.encode(text));
    await writer.flush();
  }
  assert.deepEqual(writes, ["aaa", "bbb", "cc", "ddd"]);
  // The same length again is sent from the same view (nothing allocated for it).
  assert.equal(views[1], views[0]);
  assert.notEqual(views[2], views[1]);
});

Deno.test("the read buffer starts at 4 KiB, and doubles up to 16 KiB only while reads fill it whole", async () => {
  /** The room each read was offered, with reads that fill `fill(room)` of it. */
  const offers = async (fill: (room: number) => number, reads: number) => {
    const room: number[] = [];
    const reader = new BufferedReader({
      read(p) {
        room.push(p.length);
        const n = fill(p.length);
        p.fill(0x61, 0, n);
        return Promise.resolve(n);
      },
    });
    for (let i = 0; i < reads; i++) {
      assert.notEqual(await reader.readSome(Infinity), null);
    }
    return room;
  };
  // A body coming as fast as the socket gives it: every read takes all it is offered.
  assert.deepEqual(
    await offers((room) => room, 5),
    [4096, 8192, 16384, 16384, 16384],
  );
  // Small requests, one a read (keep-alive), or a read that fills only part of the buffer.
  assert.deepEqual(await offers(() => 40, 4), [4096, 4096, 4096, 4096]);
  assert.deepEqual(await offers((room) => room - 1, 3), [4096, 4096, 4096]);
});

Deno.test("BufferedWriter: once its write is over, a writer's buffer serves the next writer", async () => {
  const buffers: ArrayBufferLike[] = [];
  const sink = {
    write(p: Uint8Array): Promise<number> {
      buffers.push(p.buffer);
      return Promise.resolve(p.length);
    },
  };
  const first = new BufferedWriter(sink);
  const second = new BufferedWriter(sink);
  first.queue(encoder.encode("one"));
  await first.flush();
  // `first` is idle and holds no buffer: `second` gathers in the one `first` wrote from.
  second.queue(encoder.encode("two"));
  await second.flush();
  assert.equal(buffers[1], buffers[0]);
  // A buffer that had to grow for a large answer stays with its writer.
  first.queue(new Uint8Array(10_000));
  await first.flush();
  first.queue(encoder.encode("three"));
  await first.flush();
  assert.equal(buffers[3], buffers[2]);
  assert.notEqual(buffers[2], buffers[0]);
});

/** A source whose one read is answered by hand: it keeps the buffer the reader handed it. */
function heldSource() {
  let resolve: (n: number | null) => void = () => {};
  const src = {
    target: null as Uint8Array | null,
    read(p: Uint8Array): Promise<number | null> {
      src.target = p;
      return new Promise((r) => resolve = r);
    },
    answer(text: string) {
      src.target!.set(encoder.encode(text));
      resolve(text.length);
    },
  };
  return src;
}

Deno.test("released read buffers are reused, but never one a read is still filling", async () => {
  const first = new BufferedReader(source("first", 100));
  await first.fill();
  const firstBuffer = first.peek().buffer;
  first.release();
  assert.equal(await first.fill(), null, "a released reader is at its end");
  const second = new BufferedReader(source("second", 100));
  await second.fill();
  assert.equal(second.peek().buffer, firstBuffer, "the released buffer was reused");
  second.release();

  // A read still in flight at release (a handler pulling a body the connection gave up on): its
  // buffer must not be lent to another reader, or that reader would see the late bytes.
  const held = heldSource();
  const busy = new BufferedReader(held);
  const pending = busy.fill();
  busy.release();
  const other = new BufferedReader(source("mine!", 100));
  await other.fill();
  held.answer("LATE!");
  await pending;
  assert.equal(decoder.decode(other.peek()), "mine!");
});

Deno.test("released write buffers are reused, but never one a write still holds", async () => {
  const written: Uint8Array[] = [];
  let finish: (n: number) => void = () => {};
  const slowSink = {
    write(p: Uint8Array): Promise<number> {
      written.push(p);
      return new Promise((r) => finish = r);
    },
  };
  const busy = new BufferedWriter(slowSink);
  busy.queue(encoder.encode("in flight"));
  const flushing = busy.flush();
  busy.release(); // the write holds the buffer: it is not given back
  const quickSink = {
    write(p: Uint8Array): Promise<number> {
      written.push(p.slice());
      return Promise.resolve(p.length);
    },
  };
  const other = new BufferedWriter(quickSink);
  other.queue(encoder.encode("other"));
  await other.flush();
  finish(written[0].length);
  await flushing;
  assert.equal(decoder.decode(written[0]), "in flight", "the held bytes were not overwritten");
  assert.equal(decoder.decode(written[1]), "other");
});

Deno.test("queueLatin1 writes one byte per character, ASCII or not, and refuses past 255", async () => {
  const table: [string, number[] | "RangeError"][] = [
    ["", []],
    ["HTTP/1.1 200 OK\r\n", [...encoder.encode("HTTP/1.1 200 OK\r\n")]],
    ["caf\u00e9", [0x63, 0x61, 0x66, 0xe9]],
    ["\u00ff\u0080x", [0xff, 0x80, 0x78]],
    ["a\u0100", "RangeError"],
    ["\u{1f600}", "RangeError"],
    // Larger than the initial gathering buffer: the buffer grows first.
    ["x".repeat(5000) + "\u00e9", [...encoder.encode("x".repeat(5000)), 0xe9]],
  ];
  for (const [text, expected] of table) {
    const written: number[] = [];
    const writer = new BufferedWriter({
      write(p: Uint8Array): Promise<number> {
        written.push(...p);
        return Promise.resolve(p.length);
      },
    });
    writer.queue(encoder.encode("<"));
    if (expected === "RangeError") {
      assert.throws(() => writer.queueLatin1(text), RangeError, JSON.stringify(text));
    } else {
      writer.queueLatin1(text);
    }
    writer.queue(encoder.encode(">"));
    await writer.flush();
    const inner = expected === "RangeError" ? [] : expected;
    assert.deepEqual(written, [0x3c, ...inner, 0x3e], JSON.stringify(text).slice(0, 40));
  }
});

Deno.test("once every buffered byte is taken, the next read gets the whole buffer", async () => {
  // A client that sends one small request at a time (or a pipelined batch): each read must be
  // offered the whole buffer, not the tail left after the items before it.
  const item = "GET / HTTP/1.1\r\n\r\n";
  const room: number[] = [];
  const data = encoder.encode(item.repeat(40));
  let off = 0;
  const reader = new BufferedReader({
    read(p) {
      room.push(p.length);
      if (off >= data.length) return Promise.resolve(null);
      p.set(data.subarray(off, off + item.length));
      off += item.length;
      return Promise.resolve(item.length);
    },
  }, 64);
  const headEnd = encoder.encode("\r\n\r\n");
  const takers: (() => Promise<boolean>)[] = [
    async () => (await reader.readUntil(headEnd, 1000)).status === "found",
    async () => (await reader.readFull(item.length)).status === "full",
    async () => (await reader.readSome(item.length)) !== null,
    async () => {
      await reader.fill();
      const end = reader.findBuffered((buf, _start, from, to) => {
        const at = indexOfSequence(buf, headEnd, from, to);
        return at === -1 ? -1 : at + headEnd.length;
      }, 1000);
      if (end === -1) return false;
      reader.consume(end - reader.offset);
      return true;
    },
  ];
  for (let i = 0; i < 40; i++) assert.ok(await takers[i % takers.length](), `item ${i}`);
  assert.deepEqual(new Set(room), new Set([64]), `reads were offered ${room.join(" ")} bytes`);
});

Deno.test("startRead and filled: what fill does, in two halves; 0 or null is the end", async () => {
  for (const end of [0, null]) {
    const chunks = ["GET / HTTP/1.1\r\n", "Host: x\r\n", "\r\n"].map((s) =>
      new TextEncoder().encode(s)
    );
    let reads = 0;
    const reader = new BufferedReader({
      read(into: Uint8Array) {
        reads++;
        const chunk = chunks.shift();
        if (chunk === undefined) return Promise.resolve(end);
        into.set(chunk);
        return Promise.resolve(chunk.length);
      },
    });
    const got: (number | null)[] = [];
    for (let i = 0; i < 4; i++) got.push(reader.filled(await reader.startRead()));
    assert.deepEqual(got, [16, 9, 2, null], `end as ${end}`);
    assert.equal(reader.buffered, 27);
    // At the end, neither half reads again.
    assert.equal(reader.filled(await reader.startRead()), null);
    assert.equal(await reader.fill(), null);
    assert.equal(reads, 4);
  }
});
