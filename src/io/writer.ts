/**
 * Buffered writing over a stream socket.
 *
 * `BufferedWriter` gathers small writes (a response head, a short body, the answers to a pipelined
 * batch) in one reused buffer so that they leave in one `write` call; `writeAll` loops over a
 * socket `write` that takes only part of what it is given.
 */
import { BufferPool } from "./pool.ts";

/** The part of `Deno.Conn` the writer needs. */
export interface ByteSink {
  write(p: Uint8Array): Promise<number>;
}

/** Writes every byte of `bytes`: a socket `write` may take only part of them. */
export async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    // Usually one write takes everything: no view is made for that one.
    const piece = off === 0 && bytes.length <= MAX_WRITE_BYTES
      ? bytes
      : bytes.subarray(off, off + MAX_WRITE_BYTES);
    off += await sink.write(piece);
  }
}

/**
 * Most bytes `writeAll` hands the socket in one write. What a write gives the kernel beyond what
 * the connection can send at once waits in the socket's queue and is sent when the client's
 * acknowledgements open the window, by the code that receives them: on loopback, in the client's
 * own system calls. With 1 MiB writes, wrk (one thread, the bottleneck of static-1m) spends a
 * fifth of its samples sending sockserve's data; with 64 KiB writes, 2%, and the scenario's median
 * is 1 872 requests a second instead of 1 273 (alternating runs; 32 KiB writes do worse, 128 KiB
 * no better). 64 KiB is also loopback's MTU.
 */
export const MAX_WRITE_BYTES = 64 * 1024;

const DONE = Promise.resolve();
/**
 * The view the last flush of any writer wrote: it serves again when the next flush is of as many
 * bytes of the same buffer, as it is when a server answers alike over and over (the pool gives
 * back the buffer used last). Shared, so that an idle writer holds no view of its own.
 */
let lastSent: Uint8Array = new Uint8Array(0);

/**
 * Bytes above which `BufferedWriter` stops gathering and writes what it holds; a body in hand
 * smaller than this is queued with its head, a larger one written on its own.
 */
export const GATHER_LIMIT_BYTES = 64 * 1024;
/** First size of a writer's buffer; it doubles when a response needs more. */
const INITIAL_GATHER_BYTES = 4 * 1024;
/** At most 256 spare write buffers: 1 MiB. */
const WRITE_BUFFERS = new BufferPool(INITIAL_GATHER_BYTES, 256);

const asciiEncoder = new TextEncoder();

/**
 * Gathers writes into one buffer per connection, reused from one write to the next, and sends
 * them in one `write`. Pieces are copied in, so a caller may reuse its bytes at once. Queueing is
 * synchronous (`queue`, `queueLatin1`): only a write to the socket costs a promise.
 */
export class BufferedWriter {
  #sink: ByteSink;
  /** The gathering buffer; null while a write holds it (or before the first push). */
  #buf: Uint8Array<ArrayBuffer> | null = null;
  #used = 0;
  /** The flush whose write is in flight, the buffer it writes from and how many bytes. */
  #flushing: Promise<void> | null = null;
  #held: Uint8Array<ArrayBuffer> | null = null;
  #sending = 0;
  /** Large pieces being written on their own (`push`). */
  #pushing = 0;
  #bytesWritten = 0;
  /** Set by `release`: a write completing afterwards keeps its buffer to itself. */
  #released = false;

  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  get pendingBytes(): number {
    return this.#used;
  }

  /** Bytes handed to the socket so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * Ends the writer: its buffer goes back to the pool. A buffer a write still holds is not the
   * writer's until that write completes (see `flush`), so it is never given back early.
   */
  release(): void {
    if (this.#buf !== null) WRITE_BUFFERS.give(this.#buf);
    this.#buf = null;
    this.#released = true;
  }

  /** Whether a write to the sink is in flight (one that failed counts as never ending). */
  get writing(): boolean {
    return this.#flushing !== null || this.#pushing > 0;
  }

  /** Whether enough is queued that it should be written before more is gathered. */
  get full(): boolean {
    return this.#used >= GATHER_LIMIT_BYTES;
  }

  /** Queues a copy of `bytes`, however many are queued already (see `full`). */
  queue(bytes: Uint8Array): void {
    this.#room(bytes.length).set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /**
   * Queues `text` one byte per character: a response head, whose names, values and reason are
   * ByteStrings. Written straight into the buffer, with no array of its own. A character above
   * 255 throws a RangeError, and nothing of `text` is queued.
   */
  queueLatin1(text: string): void {
    const buf = this.#room(text.length);
    const start = this.#used;
    // A head is nearly always ASCII, where UTF-8 and Latin-1 agree: then `encodeInto` (a fast
    // call into Deno, 0.13 µs for a 120-byte head) writes it, instead of this loop (0.28 µs). It
    // reads all of `text` into exactly `text.length` bytes only when every character is ASCII.
    const into = buf.subarray(start, start + text.length);
    if (asciiEncoder.encodeInto(text, into).read === text.length) {
      this.#used += text.length;
      return;
    }
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0xff) throw new RangeError("a response head character beyond Latin-1");
      buf[start + i] = code;
    }
    this.#used += text.length;
  }

  /**
   * Queues `bytes`, writing what is gathered first when they would pass the limit. A large piece
   * is written on its own after what is queued: one more syscall is cheaper than copying it.
   */
  async push(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    if (bytes.length >= GATHER_LIMIT_BYTES) {
      await this.flush();
      this.#bytesWritten += bytes.length;
      this.#pushing++;
      try {
        return await writeAll(this.#sink, bytes);
      } finally {
        this.#pushing--;
      }
    }
    if (this.#used + bytes.length > GATHER_LIMIT_BYTES) await this.flush();
    this.queue(bytes);
  }

  /**
   * Sends everything queued in one write, after the write of an earlier flush if one is still in
   * flight (so that writes leave in order, one at a time).
   */
  flush(): Promise<void> {
    if (this.#used === 0) return this.#flushing ?? DONE;
    if (this.#flushing !== null) return this.#flushing.then(() => this.flush());
    const buf = this.#buf!;
    let bytes = lastSent;
    if (bytes.buffer !== buf.buffer || bytes.length !== this.#used) {
      bytes = lastSent = buf.subarray(0, this.#used);
    }
    // The buffer is the write's until it completes: a push meanwhile gets a buffer of its own.
    this.#buf = null;
    this.#used = 0;
    this.#bytesWritten += bytes.length;
    this.#sending = bytes.length;
    this.#held = buf;
    // The callback is the writer's own, not a closure made for each write.
    return this.#flushing = this.#sink.write(bytes).then(this.#sent);
  }

  /**
   * The usual write takes everything at once; only a partial one goes on through `writeAll` (with
   * a closure of its own: one per writer would be held by every idle connection).
   */
  #sent = (n: number): Promise<void> | void => {
    if (n >= this.#sending) return this.#reclaim();
    return writeAll(this.#sink, this.#held!.subarray(n, this.#sending)).then(() => this.#reclaim());
  };

  /**
   * The flush's write is over: its buffer goes back to the pool, so that a connection between two
   * answers holds none, and the next answer of any connection is gathered in the buffer used last
   * (still in the caches). A grown one stays with the writer, unless it was released.
   */
  #reclaim(): void {
    const held = this.#held!;
    this.#held = null;
    this.#flushing = null;
    if (!WRITE_BUFFERS.give(held) && !this.#released) this.#buf ??= held;
  }

  /** The buffer, with room for `n` more bytes after the queued ones. */
  #room(n: number): Uint8Array<ArrayBuffer> {
    const needed = this.#used + n;
    if (this.#buf === null || this.#buf.length < needed) {
      let size = this.#buf?.length ?? INITIAL_GATHER_BYTES;
      while (size < needed) size *= 2;
      const bigger = size === INITIAL_GATHER_BYTES ? WRITE_BUFFERS.take() : new Uint8Array(size);
      if (this.#buf !== null) bigger.set(this.#buf.subarray(0, this.#used));
      this.#buf = bigger;
    }
    return this.#buf;
  }
}
