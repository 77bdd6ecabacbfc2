/**
 * Writing a handler's answer onto a connection: the head from its status and fields, the body in
 * the framing it allows (Content-Length whenever the size is known, else chunked, or the close
 * for HTTP/1.0), small answers only queued so that a pipelined batch leaves in one write.
 */
import {
  type BodyReader,
  EMPTY_READER,
  FileBodyReader,
  type KnownBody,
  knownBody,
  knownLength,
} from "../handler/body_source.ts";
import { takeFastResponse, takeStaticBody } from "../deno/response_slots.ts";
import type { Answer } from "../handler/direct.ts";
import {
  contentTypeFields,
  encodeChunk,
  type EncodedFields,
  encodeFields,
  encodeHead,
  LAST_CHUNK,
  RepeatedHead,
  type ResponseFraming,
  statusHasNoBody,
} from "../http1/encode.ts";
import { type BufferedWriter, GATHER_LIMIT_BYTES } from "../io/writer.ts";
import type { RequestHead } from "../http1/parse.ts";
import { ResponseClass } from "../handler/web_classes.ts";

const encoder = new TextEncoder();
/** Bytes of a response body read ahead to learn its length before the head is written. */
const READ_AHEAD_BYTES = 64 * 1024;

/** What the response writer asks of its connection. */
export interface ResponseHost {
  /** Queues an error answer instead of the response; the connection closes after it. */
  fail(error: unknown, minor: number): void;
  /** A body is about to be streamed: a client that leaves meanwhile is to be noticed. */
  watchPeer(): void;
  /** The body was cut short (shorter than declared, or the client left): the request failed. */
  responseCut(): void;
  /** Writes the 101 `response` and hands the connection over (false: the loop ends). */
  switchProtocols(head: RequestHead, response: Response): Promise<boolean>;
}

/** One connection's response writing, over its writer. */
export class ResponseWriter {
  #writer: BufferedWriter;
  #host: ResponseHost;
  /** The body stream being sent, while it is: cancelled when the peer leaves. */
  #streaming: BodyReader | null = null;
  /** Set once the peer left: a streamed body ends there, incomplete. */
  #peerGone = false;

  constructor(writer: BufferedWriter, host: ResponseHost) {
    this.#writer = writer;
    this.#host = host;
  }

  /** A body cut short: the request failed, and the connection closes after it (false). */
  #cut(): false {
    this.#host.responseCut();
    return false;
  }

  /** The peer closed or reset the connection: the body being streamed is cancelled. */
  peerLeft(): void {
    this.#peerGone = true;
    this.#streaming?.cancel().catch(() => {});
  }

  /**
   * Writes the response. Returns false if the connection must close afterwards (the body was cut
   * short, or its end is marked by the close). A response whose body is in hand — none, or bytes
   * the handler described — is only queued, with no promise (the writer flushes before the next
   * read, so answers to a pipelined batch leave together); any other reads its body first.
   */
  write(
    head: RequestHead,
    response: Response | Answer,
    keepAlive: boolean,
  ): boolean | Promise<boolean> {
    // A 200 with a string or bytes and at most a Content-Type: its parts without its Headers.
    const fast = response instanceof ResponseClass ? takeFastResponse(response) : null;
    const status = fast !== null ? 200 : response.status;
    if (status === 101 && response instanceof ResponseClass) {
      return this.#host.switchProtocols(head, response);
    }
    let fields: EncodedFields;
    try {
      fields = fast !== null ? contentTypeFields(fast.contentType) : encodeFields(response.headers);
    } catch (error) {
      // A header that would split the response: a 500 instead, and the body is not wanted.
      if (fast === null) streamReader(response)?.cancel().catch(() => {});
      this.#host.fail(error, head.minor);
      return false;
    }
    const declared = fields.declaredLength;
    let known = fast !== null
      ? bytesOf(fast.body)
      : statusHasNoBody(status)
      ? null
      : knownBodyOf(response);
    let framing: ResponseFraming;
    let body: Uint8Array | null = null;
    if (statusHasNoBody(status)) {
      framing = status === 304 && declared !== null
        ? { kind: "length", length: declared }
        : { kind: "none" };
    } else if (
      known?.kind === "bytes" && (declared === null || declared === known.bytes.length) &&
      known.bytes.length < GATHER_LIMIT_BYTES
    ) {
      framing = { kind: "length", length: known.bytes.length };
      if (head.method !== "HEAD") body = known.bytes;
    } else {
      if (known?.kind === "bytes" && known.bytes.buffer === TEXT_SCRATCH.buffer) {
        known = { kind: "bytes", bytes: known.bytes.slice() };
      }
      return this.#writeStreamed(head, response, fields, known, keepAlive);
    }
    const reason = fast !== null ? "" : reasonOf(response);
    if (!this.queueHead(head, status, reason, fields, framing, keepAlive)) return false;
    if (body !== null) this.#writer.queue(body);
    return this.#writer.full ? this.#writer.flush().then(() => keepAlive) : keepAlive;
  }

  /** The rest of `write`: a body to read from a stream or a file, or a large one. */
  async #writeStreamed(
    head: RequestHead,
    response: Response | Answer,
    fields: EncodedFields,
    known: KnownBody | null,
    keepAlive: boolean,
  ): Promise<boolean> {
    const declared = fields.declaredLength;
    const omitBody = head.method === "HEAD";
    const reader = known !== null ? knownReader(known, omitBody) : streamReader(response);
    this.#streaming = reader;
    try {
      let framing: ResponseFraming;
      let ahead: ReadAhead = { chunks: [], done: true, pending: null };
      if (known !== null) {
        // A body the handler described (body_source.ts): its length is known without reading
        // it. Bytes leave with the head; a file follows it from the reader's reused buffer.
        framing = { kind: "length", length: declared ?? knownLength(known) };
        if (known.kind === "bytes") ahead.chunks = [known.bytes];
        else ahead.done = false;
      } else if (reader === null && omitBody) {
        // A HEAD answer may announce the GET's length (RFC 9110 §9.3.2); without one, it says
        // nothing rather than a wrong 0.
        framing = declared !== null ? { kind: "length", length: declared } : { kind: "none" };
      } else if (reader === null) {
        framing = { kind: "length", length: 0 };
      } else {
        // The chunks ready now leave with the head in one write, whether or not the length was
        // declared: a head and a small body in two writes stall on Nagle and delayed ACKs.
        ahead = await readAhead(reader);
        if (declared !== null) framing = { kind: "length", length: declared };
        else if (ahead.done) framing = { kind: "length", length: byteLength(ahead.chunks) };
        else if (omitBody) framing = { kind: "none" };
        else if (head.minor === 1) framing = { kind: "chunked" };
        else framing = { kind: "close" };
      }
      if (framing.kind === "close") keepAlive = false;
      const queued = this.queueHead(
        head,
        response.status,
        reasonOf(response),
        fields,
        framing,
        keepAlive,
      );
      if (!queued) return false;
      if (omitBody || reader === null) return keepAlive;
      const written = this.#writeBody(reader, framing, ahead);
      const complete = written instanceof Promise ? await written : written;
      return keepAlive && complete;
    } finally {
      this.#streaming = null;
      reader?.cancel().catch(() => {});
    }
  }

  /**
   * Queues the head; a reason phrase that would split the response, or a character a head cannot
   * carry, queues a 500 instead (false).
   */
  queueHead(
    head: RequestHead,
    status: number,
    text: string,
    fields: EncodedFields,
    framing: ResponseFraming,
    keepAlive: boolean,
  ): boolean {
    try {
      const repeated = REPEATED_HEAD.bytes(head.minor, status, text, fields, framing, !keepAlive);
      if (repeated !== null) this.#writer.queue(repeated);
      else {
        this.#writer.queueLatin1(
          encodeHead(head.minor, status, text, fields, framing, !keepAlive),
        );
      }
      return true;
    } catch (error) {
      this.#host.fail(error, head.minor);
      return false;
    }
  }

  /**
   * Writes the body in its framing; returns false if it did not match its declared length. A
   * small body read whole ahead is queued like bytes; anything else is written as it comes.
   */
  #writeBody(
    reader: BodyReader,
    framing: ResponseFraming,
    ahead: ReadAhead,
  ): boolean | Promise<boolean> {
    if (
      !ahead.done || framing.kind !== "length" || byteLength(ahead.chunks) >= GATHER_LIMIT_BYTES
    ) {
      return this.#writeBodyAsItComes(reader, framing, ahead);
    }
    let left = framing.length;
    for (let chunk of ahead.chunks) {
      checkChunk(chunk);
      if (chunk.length > left) chunk = chunk.subarray(0, left);
      this.#writer.queue(chunk);
      left -= chunk.length;
    }
    if (left !== 0) return this.#cut();
    return this.#writer.full ? this.#writer.flush().then(() => true) : true;
  }

  async #writeBodyAsItComes(
    reader: BodyReader,
    framing: ResponseFraming,
    ahead: ReadAhead,
  ): Promise<boolean> {
    const chunked = framing.kind === "chunked";
    let left = framing.kind === "length" ? framing.length : Infinity;
    const send = async (chunk: Uint8Array) => {
      checkChunk(chunk);
      if (chunk.length === 0) return;
      if (chunk.length > left) chunk = chunk.subarray(0, left);
      left -= chunk.length;
      if (chunked) { for (const piece of encodeChunk(chunk)) await this.#writer.push(piece); }
      else await this.#writer.push(chunk);
    };
    for (const chunk of ahead.chunks) await send(chunk);
    if (!ahead.done) {
      // A streamed body: every chunk goes out as it comes (think of Server-Sent Events), as long
      // as the client is there to take them.
      this.#host.watchPeer();
      await this.#writer.flush();
      let next = ahead.pending ?? reader.read();
      for (;; next = reader.read()) {
        const { done, value } = await next;
        if (done) break;
        await send(value);
        await this.#writer.flush();
        if (left === 0) break;
      }
    }
    if (this.#peerGone) return this.#cut();
    if (chunked) await this.#writer.push(LAST_CHUNK);
    if (framing.kind !== "length" || left === 0 && (await reader.read()).done === true) return true;
    return this.#cut();
  }
}

/** Microtask turns a read may take to count as ready: a Blob of several parts needs 5; a margin. */
const SOON_TURNS = 8;

/** What `readAhead` found: the chunks ready now, and whether the stream ended among them. */
interface ReadAhead {
  chunks: Uint8Array[];
  done: boolean;
  /** A read still in flight when the stream was not ready: the next chunk to send. */
  pending: Promise<ReadableStreamReadResult<Uint8Array>> | null;
}

/** The outcome of a read, as its callbacks left it. */
type ReadOutcome =
  | { state: "waiting" }
  | { state: "read"; result: ReadableStreamReadResult<Uint8Array> }
  | { state: "failed"; error: unknown };

/**
 * Reads the chunks that are ready now (up to a bound), so that a body of known size gets a
 * Content-Length instead of chunked framing — as Go does for handlers that finish before a flush.
 * A read counts as ready if it settles within a few microtask turns: a body built from a string,
 * bytes or a Blob has all its chunks ready by then; a stream that is still producing does not, and
 * is sent chunked. Its callbacks leave the outcome in a variable that is polled each turn: cheaper
 * than racing each read against a chain of promises, or awaiting it once more once it is known.
 */
async function readAhead(reader: BodyReader): Promise<ReadAhead> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = reader.read();
    let outcome = { state: "waiting" } as ReadOutcome; // "as": set by the callbacks
    next.then(
      (result) => outcome = { state: "read", result },
      (error) => outcome = { state: "failed", error },
    );
    for (let turn = 0; turn < SOON_TURNS && outcome.state === "waiting"; turn++) await undefined;
    if (outcome.state === "waiting") return { chunks, done: false, pending: next };
    if (outcome.state === "failed") throw outcome.error;
    const result = outcome.result;
    if (result.done) return { chunks, done: true, pending: null };
    chunks.push(result.value);
    // Past the bound, one more read still decides: a large body that ends right here (a 1 MiB
    // string is one chunk) keeps its Content-Length; a stream that goes on is sent chunked.
    if (size >= READ_AHEAD_BYTES) return { chunks, done: false, pending: null };
    size += result.value.length;
  }
}

/** The last head written by any connection, for the next that is the same. */
const REPEATED_HEAD = new RepeatedHead();

/**
 * A body sendable from its source: a labelled `Response`'s, the string or bytes a `Response` was
 * made with (taken, so the Response is used), or an answer's bytes or file.
 */
function knownBodyOf(response: Response | Answer): KnownBody | null {
  if (response instanceof ResponseClass) {
    const known = knownBody(response);
    if (known !== null) return known;
    const body = takeStaticBody(response);
    return body === null ? null : bytesOf(body);
  }
  const body = response.body;
  return body === null || body.kind === "stream" ? null : body;
}

/** A string or bytes body as a known one; a string in `TEXT_SCRATCH` when it fits. */
function bytesOf(body: string | Uint8Array): KnownBody {
  return { kind: "bytes", bytes: typeof body === "string" ? encodeText(body) : body };
}

/**
 * One buffer that every connection encodes string bodies into: an array of their own each (the
 * `TextEncoder.encode` op allocates outside V8's heap) was 9% of a pipelined hello world, in
 * malloc. Its views are shorter than `GATHER_LIMIT_BYTES`, so `write` queues them — the
 * writer copies them — before it returns, or copies them out for the streamed path: no view
 * outlives the next string.
 */
const TEXT_SCRATCH = new Uint8Array(GATHER_LIMIT_BYTES / 2);

/**
 * The last string body encoded, and its own bytes once it came twice in a row: a handler that
 * answers with a constant ("Hello, World!") gives the same string every time, and its bytes are
 * then copied into the writer as they are, with no encoding and no view.
 */
let lastText = "";
let lastTextBytes: Uint8Array | null = null;

/**
 * `text` as UTF-8: in `TEXT_SCRATCH` when it surely fits (3 bytes a UTF-16 unit at most), or the
 * bytes kept for the string before when it is the same.
 */
function encodeText(text: string): Uint8Array {
  if (text.length * 3 > TEXT_SCRATCH.length) return encoder.encode(text);
  if (text === lastText) return lastTextBytes ??= encoder.encode(text);
  lastText = text;
  lastTextBytes = null;
  return TEXT_SCRATCH.subarray(0, encoder.encodeInto(text, TEXT_SCRATCH).written);
}

/** The reason phrase a handler gave its Response; an `Answer` has none. */
function reasonOf(response: Response | Answer): string {
  return response instanceof ResponseClass ? response.statusText : "";
}

/** The reader of a response's body stream, or null when it has none (or may not). */
function streamReader(response: Response | Answer): BodyReader | null {
  if (statusHasNoBody(response.status)) return null;
  if (response instanceof ResponseClass) return response.body?.getReader() ?? null;
  return response.body?.kind === "stream" ? response.body.stream.getReader() : null;
}

/** The reader of a body the handler described; nothing is opened when no body is sent. */
function knownReader(known: KnownBody, omitBody: boolean): BodyReader {
  return known.kind === "file" && !omitBody ? new FileBodyReader(known) : EMPTY_READER;
}

/** A handler's stream may enqueue anything; only bytes can be sent. */
function checkChunk(chunk: unknown): void {
  if (!(chunk instanceof Uint8Array)) throw new TypeError("response body chunks must be bytes");
}

function byteLength(chunks: Uint8Array[]): number {
  let n = 0;
  for (const chunk of chunks) n += chunk.length;
  return n;
}
