/**
 * Buffered reading over a stream socket.
 *
 * A socket `read` returns *at most* the bytes asked for: a request head can arrive one byte at a
 * time, or together with the body and the next three pipelined requests. `BufferedReader` hides
 * that with the read-until-full loop: it keeps one buffer per connection, appends what each `read`
 * returns, and hands out views once a delimiter (or N bytes) is in hand. Nothing is copied on the
 * way: the views point into the buffer and stay valid until the next call on the reader.
 */
import { indexOfSequence } from "./bytes.ts";
import { BufferPool } from "./pool.ts";
import { readEpoch } from "./read_epoch.ts";

/**
 * The part of `Deno.Conn` the reader needs (a test can pass any object with `read`). A read into
 * a buffer with room resolves to the number of bytes read; 0 or null is the end of the stream
 * (`Deno.Conn.read` says null, the operation under it 0: see src/deno/socket.ts).
 */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * What a reader sends out before it reads from its source (see `BufferedReader.flushFirst`): a
 * `BufferedWriter` over the same connection.
 */
export interface Flushable {
  readonly pendingBytes: number;
  flush(): Promise<void>;
}

/**
 * What a bounded read ended with. Each outcome is distinct so the caller can answer precisely:
 * - `found` / `full`: the bytes asked for (a view into the reader's buffer);
 * - `eof`: the peer closed before sending a single byte of this item (a clean end);
 * - `truncated`: the peer closed in the middle of the item (the bytes received are given);
 * - `limit`: `maxBytes` were buffered without the delimiter (nothing is consumed).
 */
export type ReadUntilResult =
  | { status: "found"; bytes: Uint8Array }
  | { status: "eof" }
  | { status: "truncated"; bytes: Uint8Array }
  | { status: "limit" };

export type ReadFullResult =
  | { status: "full"; bytes: Uint8Array }
  | { status: "eof" }
  | { status: "truncated"; bytes: Uint8Array };

/**
 * Finds the end of an item in `buf[from, to)`: the index just past it, or -1 if it is not there
 * yet. `from` may be later than the item's start: the reader only rescans what is new. `buf` is
 * the reader's whole buffer, which holds old bytes past `to`: a matcher never looks at them, and
 * keeps its native searches (`indexOf`) from running into them, since scanning stale kilobytes
 * costs more than the search itself. (A view that ends at `to` per search was a tenth of the
 * bytes a small request allocated.)
 */
export type Matcher = (buf: Uint8Array, start: number, from: number, to: number) => number;

/**
 * A reader's first buffer. Any usual request head fits (curl's is 80 bytes, a browser's 0.5–2 KiB)
 * and an idle keep-alive connection holds no more than that (Go's `bufio.Reader` has 4 KiB, hyper
 * starts at 8): ten thousand of them hold 40 MiB, not the 160 of a 16 KiB buffer.
 */
const INITIAL_BUFFER_BYTES = 4 * 1024;
/**
 * While reads fill the whole buffer (a body coming as fast as the socket gives it), it doubles up
 * to this, as hyper's adaptive read buffer does, so a large body arrives in 16 KiB reads and not
 * in 4 KiB ones. Not further: with reads of up to 64 KiB, a 64 KiB POST echoed back went from 5 000
 * to 2 000–4 000 requests a second (its latency from 1.3 to 1.4–4.2 ms at the median). The body
 * then came in one 64 KiB read and a short one, with longer gaps between the reads than four
 * reads of 16 KiB had (strace); why was not pinned down.
 */
const ADAPTIVE_MAX_BYTES = 16 * 1024;

/** At most 256 spare read buffers: 1 MiB. */
const READ_BUFFERS = new BufferPool(INITIAL_BUFFER_BYTES, 256);

/**
 * The buffer a connection waits for its next request in (see `startRead`). An idle keep-alive
 * connection's read is pending all the time it is idle, and holds its buffer all that time: with
 * 4 KiB, ten thousand idle connections held 40 MiB. A request head that fits (wrk's and curl's are
 * under 100 bytes) is parsed where it landed; a read that fills it whole moves to a 4 KiB buffer
 * from the pool for the rest, at the cost of one more read for a larger head.
 */
const IDLE_BUFFER_BYTES = 512;
/** At most 1024 spare idle buffers: 512 KiB. */
const IDLE_BUFFERS = new BufferPool(IDLE_BUFFER_BYTES, 1024);

export class BufferedReader {
  #source: ByteSource;
  #buf: Uint8Array<ArrayBuffer>;
  /** Index of the first unconsumed byte. */
  #start = 0;
  /** Index just past the last buffered byte. */
  #end = 0;
  #eof = false;
  #bytesRead = 0;
  /** The read epoch of the last read taken in (see read_epoch.ts). */
  #receivedIn = 0;
  /** Socket reads in flight into the buffer (one, unless callers misbehave). */
  #reading = 0;
  /** Whether the last read filled the whole buffer (it was offered all of it, and took it). */
  #filledWhole = false;
  /** Flushed before each read from the source (see `flushFirst`), or null. */
  #flushFirst: Flushable | null = null;
  /** This reader's idle buffer (`IDLE_BUFFER_BYTES`), from its first wait between requests on. */
  #idle: Uint8Array<ArrayBuffer> | null = null;
  /**
   * Set once a wait in the idle buffer needed more room (a pipelined batch, a browser's head):
   * the connection then waits in its pool buffer, as a batch cut in two costs a read and a slow
   * parse of the head cut at the edge.
   */
  #outgrewIdle = false;

  constructor(source: ByteSource, initialBytes = INITIAL_BUFFER_BYTES) {
    this.#source = source;
    this.#buf = initialBytes === INITIAL_BUFFER_BYTES
      ? READ_BUFFERS.take()
      : new Uint8Array(initialBytes);
  }

  /**
   * Ends the reader: later reads see the end of the stream. Its buffer goes back to the pool,
   * unless a read is still in flight into it (a handler still pulling a body the connection gave
   * up on): that one is left to the garbage collector.
   */
  release(): void {
    const buf = this.#buf;
    const idle = this.#idle;
    if (this.#reading === 0 && buf !== idle) READ_BUFFERS.give(buf);
    if (idle !== null && (this.#reading === 0 || buf !== idle)) IDLE_BUFFERS.give(idle);
    this.#idle = null;
    this.#buf = new Uint8Array(0);
    this.#start = this.#end = 0;
    this.#eof = true;
  }

  /**
   * Has every read from the source wait until `writer` has sent what it holds: a connection's
   * answers that are ready leave before it waits for more of the client's bytes, whatever it
   * waits for (the next request, the rest of a head, a body).
   */
  flushFirst(writer: Flushable): void {
    this.#flushFirst = writer;
  }

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Bytes received from the socket so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /**
   * The read epoch (read_epoch.ts) of the last read taken in: every byte buffered now had arrived
   * by the time that epoch's number was current.
   */
  get receivedIn(): number {
    return this.#receivedIn;
  }

  /** True once the peer has closed its sending side and every byte was read from the socket. */
  get eof(): boolean {
    return this.#eof;
  }

  /** The buffered byte at `index` (0: the next one), without a view; undefined past the last. */
  byteAt(index: number): number | undefined {
    return index < this.#end - this.#start ? this.#buf[this.#start + index] : undefined;
  }

  /** The buffered bytes, without consuming them (a view, valid until the next call). */
  peek(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Marks `n` buffered bytes as used. */
  consume(n: number): void {
    if (n > this.buffered) throw new RangeError(`consume(${n}) with ${this.buffered} buffered`);
    this.#advance(this.#start + n);
  }

  /**
   * The buffer itself, for a parser that works in place: the unconsumed bytes are
   * `[offset, offset + buffered)`. Valid until the next read; bytes consumed stay there until
   * then too.
   */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  /** Where the unconsumed bytes start in `buffer`. */
  get offset(): number {
    return this.#start;
  }

  /** The bytes from the first unconsumed one to `end`, consumed (see `#advance`). */
  #takeTo(end: number): Uint8Array {
    const bytes = this.#buf.subarray(this.#start, end);
    this.#advance(end);
    return bytes;
  }

  /**
   * Consumes the bytes up to `end`. Once nothing is left buffered the next read starts at the
   * front again, into the whole buffer: left where the last item ended, reads would go into an
   * ever smaller tail until it was full (a pipelined batch of 16 small requests cut in two every
   * 25 batches, and a view allocated for every read). The bytes stay where they are until the
   * next read.
   */
  #advance(end: number): void {
    this.#start = end;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /**
   * One `read` from the socket, appended to the buffer. Makes room first: moves the unconsumed
   * bytes to the front, and grows the buffer (doubling) when `room` bytes would not fit, or when
   * the last read filled the whole buffer (up to `ADAPTIVE_MAX_BYTES`).
   * Returns the number of bytes read, or null at end of stream.
   */
  fill(room = 1): Promise<number | null> {
    if (this.#eof) return NO_MORE;
    // The callbacks are made at the first fill, not with the reader: a connection that only
    // ever reads heads (in `startRead`, taken in by `filled`) never needs them.
    this.#onFilled ??= (n) => this.filled(n);
    this.#onFailed ??= (error) => {
      this.#reading--;
      throw error;
    };
    return this.#read(room).then(this.#onFilled, this.#onFailed);
  }

  #onFilled: ((n: number | null) => number | null) | null = null;
  #onFailed: ((error: unknown) => never) | null = null;

  /**
   * `fill` in two halves, for the serving loop's wait between requests: this starts the read and
   * gives the socket's own promise, whose value the caller passes to `filled` once it has it. That
   * wait is pending on every idle connection at every scavenge, and a promise derived with `then`
   * would be one more object of each that the young generation's collector copies (under
   * hello-100, 58 KiB survive each scavenge this way, 68 KiB with `then`). A read that fails needs
   * no `filled`.
   *
   * When nothing is buffered, the read goes into the reader's small idle buffer and its 4 KiB
   * buffer goes back to the pool: what an idle connection holds is `IDLE_BUFFER_BYTES` (unless
   * its requests outgrew it, see `#outgrewIdle`).
   */
  startRead(room = 1): Promise<number | null> {
    if (this.#eof) return NO_MORE;
    if (this.#end === 0 && this.#reading === 0 && room <= IDLE_BUFFER_BYTES) this.#toIdleBuffer();
    return this.#read(room);
  }

  /**
   * Reads into the idle buffer from now on. Only a pool-sized buffer is swapped: a grown one (a
   * large body came) stays with the reader, which keeps a body's reads large.
   */
  #toIdleBuffer(): void {
    const buf = this.#buf;
    if (buf === this.#idle || buf.length !== INITIAL_BUFFER_BYTES || this.#outgrewIdle) return;
    // Nothing is buffered and no read is in flight: the views handed out are past their use.
    READ_BUFFERS.give(buf);
    this.#buf = this.#idle ??= IDLE_BUFFERS.take();
    this.#filledWhole = false;
  }

  #read(room: number): Promise<number | null> {
    this.#reserve(room);
    // Not an async function: one promise per read is the socket's own, and a layer of async
    // frames per read was a measurable part of a small request's cost.
    this.#reading++;
    // An empty buffer is read into whole: no view to allocate, the usual case between requests.
    const into = this.#end === 0 ? this.#buf : this.#buf.subarray(this.#end);
    const writer = this.#flushFirst;
    if (writer !== null && writer.pendingBytes !== 0) {
      return writer.flush().then(() => this.#source.read(into));
    }
    return this.#source.read(into);
  }

  /** Takes in what a read started by `startRead` gave; returns it, null at the end. */
  filled(n: number | null): number | null {
    if (this.#eof) return null;
    this.#reading--;
    // The reader never reads into an empty view, so 0 can only be the end.
    if (n === null || n === 0) {
      this.#eof = true;
      return null;
    }
    this.#end += n;
    this.#bytesRead += n;
    this.#receivedIn = readEpoch();
    this.#filledWhole = n === this.#buf.length;
    return n;
  }

  /** Reads until `delimiter` is buffered; the result includes the delimiter. */
  readUntil(delimiter: Uint8Array | string, maxBytes: number): Promise<ReadUntilResult> {
    const delim = typeof delimiter === "string" ? new TextEncoder().encode(delimiter) : delimiter;
    return this.readMatch(
      (buf, _start, from, to) => {
        const at = indexOfSequence(buf.subarray(0, to), delim, from, to);
        return at === -1 ? -1 : at + delim.length;
      },
      maxBytes,
      delim.length - 1,
    );
  }

  /**
   * Where the item `match` finds complete in what is already buffered ends (an index into
   * `buffer`), or -1; nothing is consumed. No I/O, no view and no result object: the common case
   * of a whole request head in one read is parsed in place.
   */
  findBuffered(match: Matcher, maxBytes: number): number {
    return match(this.#buf, this.#start, this.#start, Math.min(this.#end, this.#start + maxBytes));
  }

  /**
   * Reads until `match` finds the end of an item, with at most `maxBytes` buffered for it.
   * `overlap` is how many already-scanned bytes the matcher must see again after a read (a
   * delimiter can straddle two reads).
   */
  async readMatch(match: Matcher, maxBytes: number, overlap: number): Promise<ReadUntilResult> {
    // Counted from #start, because a fill may move the buffered bytes to the front.
    let scanned = 0;
    for (;;) {
      const limit = Math.min(this.#end, this.#start + maxBytes);
      const from = this.#start + Math.max(0, scanned - overlap);
      const end = match(this.#buf, this.#start, from, limit);
      if (end !== -1) return { status: "found", bytes: this.#takeTo(end) };
      if (this.buffered >= maxBytes) return { status: "limit" };
      scanned = limit - this.#start;
      if (await this.fill() === null) return this.#atEof();
    }
  }

  /** Reads exactly `n` bytes (the buffer grows to hold them). */
  async readFull(n: number): Promise<ReadFullResult> {
    while (this.buffered < n) {
      if (await this.fill(n - this.buffered) === null) return this.#atEof();
    }
    return { status: "full", bytes: this.#takeTo(this.#start + n) };
  }

  /**
   * Returns what is buffered (at most `max` bytes), reading from the socket only when nothing is:
   * the building block of streamed bodies. Null at end of stream.
   */
  async readSome(max: number): Promise<Uint8Array | null> {
    if (this.buffered === 0 && await this.fill() === null) return null;
    return this.#takeTo(this.#start + Math.min(max, this.buffered));
  }

  #atEof(): { status: "eof" } | { status: "truncated"; bytes: Uint8Array } {
    if (this.buffered === 0) return { status: "eof" };
    return { status: "truncated", bytes: this.#takeTo(this.#end) };
  }

  #reserve(room: number): void {
    const used = this.buffered;
    const length = this.#buf.length;
    const adapt = this.#filledWhole && length < ADAPTIVE_MAX_BYTES;
    this.#filledWhole = false;
    if (!adapt) {
      if (length - this.#end >= room && this.#end < length) return;
      if (length - used >= room && used < length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#start = 0;
        this.#end = used;
        return;
      }
    }
    // Out of the idle buffer into a pool buffer (or larger); the idle buffer stays the reader's,
    // for its next wait, so views of it handed out before stay valid until then.
    const fromIdle = this.#buf === this.#idle;
    if (fromIdle) this.#outgrewIdle = true;
    let size = fromIdle ? INITIAL_BUFFER_BYTES : length * 2;
    while (size - used < room) size *= 2;
    // The old buffer is left to the collector, not given to the pool: a view of it handed out
    // before may still be read.
    const bigger = fromIdle && size === INITIAL_BUFFER_BYTES
      ? READ_BUFFERS.take()
      : new Uint8Array(size);
    bigger.set(this.#buf.subarray(this.#start, this.#end));
    this.#buf = bigger;
    this.#start = 0;
    this.#end = used;
  }
}

const NO_MORE = Promise.resolve(null);
