/**
 * Request body framing, RFC 9112 §6: how long the body is, and reading exactly that much.
 *
 * Framing looks only at Transfer-Encoding, Content-Length and the version, never at paths or
 * methods (as Go keeps transfer.go apart from request semantics). A framing error is always fatal
 * to the connection: once we don't know where a body ends, we don't know where the next request
 * starts, so the answer is an error status and a close — never a guess.
 */
import { HttpError } from "../errors.ts";
import type { BufferedReader } from "../io/reader.ts";
import { concatBytes } from "../io/bytes.ts";
import {
  FIELD_VALUE_BYTE,
  fieldValues,
  listTokens,
  type RequestHead,
  TOKEN_BYTE,
} from "./parse.ts";

export type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" };

export const NO_BODY: BodyFraming = Object.freeze({ kind: "none" });
const CHUNKED: BodyFraming = Object.freeze({ kind: "chunked" });

/** Decides the request body's framing (RFC 9112 §6.3). Throws `HttpError`. */
export function requestFraming(head: RequestHead, maxBodyBytes: number): BodyFraming {
  const encodings = fieldValues(head, "transfer-encoding");
  const lengths = fieldValues(head, "content-length");
  if (encodings.length > 0) {
    const codings = listTokens(encodings);
    if (head.minor === 0) {
      // §6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as faulty framing.
      throw new HttpError(400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (lengths.length > 0) {
      // §6.1: "A server MAY reject a request that contains both Content-Length and
      // Transfer-Encoding" — the classic CL.TE / TE.CL smuggling pair. We always do.
      throw new HttpError(400, "both Transfer-Encoding and Content-Length");
    }
    const last = codings[codings.length - 1];
    for (let i = 0; i < codings.length - 1; i++) {
      if (codings[i] === "chunked") throw new HttpError(400, "chunked applied more than once");
      if (!isKnownCoding(codings[i])) throw unsupportedCoding(codings[i]);
    }
    // §6.3: "If a Transfer-Encoding header field is present in a request and the chunked transfer
    // coding is not the final encoding, ... the server MUST respond with the 400 (Bad Request)".
    if (last !== "chunked") {
      if (last === undefined || isKnownCoding(last)) {
        throw new HttpError(400, "chunked must be the final transfer coding of a request");
      }
      throw unsupportedCoding(last);
    }
    // §6.1: a server that receives a coding it does not understand SHOULD answer 501; we decode
    // only chunked, so gzip/deflate/compress under chunked are refused the same way.
    if (codings.length > 1) throw unsupportedCoding(codings[0]);
    return CHUNKED;
  }
  if (lengths.length === 0) return NO_BODY;
  return { kind: "length", length: parseContentLength(lengths, maxBodyBytes) };
}

function isKnownCoding(coding: string): boolean {
  return coding === "gzip" || coding === "deflate" || coding === "compress" ||
    coding === "x-gzip" || coding === "x-compress";
}

function unsupportedCoding(coding: string): HttpError {
  return new HttpError(501, `transfer coding "${coding}" is not supported (only chunked)`);
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). Several fields or a list are accepted only when every
 * value is the same ("MAY accept ... a list ... if all values are identical"); anything else,
 * including signs, spaces inside, hex or an empty value, is a 400.
 */
function parseContentLength(values: readonly string[], maxBodyBytes: number): number {
  let length = -1;
  for (const value of values) {
    for (const element of value.split(",")) {
      const digits = element.trim();
      if (!/^[0-9]+$/.test(digits)) {
        throw new HttpError(400, `Content-Length "${value}" is not a number of bytes`);
      }
      // Leading zeros are digits too; compare by value, with an overflow guard before Number().
      const n = digits.replace(/^0+(?=.)/, "").length > 15 ? Infinity : Number(digits);
      if (length !== -1 && n !== length) {
        throw new HttpError(400, "Content-Length fields with different values");
      }
      length = n;
    }
  }
  if (length > maxBodyBytes) {
    throw new HttpError(413, `request body of ${length} bytes is over the ${maxBodyBytes} limit`);
  }
  return length;
}

const enum ChunkState {
  Size,
  SizeMore,
  ExtBlank,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerName,
  TrailerValue,
  TrailerLf,
  EndLf,
  Done,
}

/** Bounds of the chunked decoder. */
export interface ChunkedLimits {
  /** Largest total of chunk data; over it gives 413. */
  maxBodyBytes: number;
  /** Most bytes of chunk extensions on one chunk-size line (we skip them, but not forever). */
  maxExtensionBytes: number;
  /** Most bytes of trailer section; over it gives 431. */
  maxTrailerBytes: number;
}

/** Hex digits in a chunk size at most: 16 (64 bits) is far above any body we accept. */
const MAX_SIZE_DIGITS = 16;

/**
 * The chunked transfer coding (RFC 9112 §7.1) as an explicit state machine over bytes.
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *
 * `decode` consumes any prefix of the input — one byte or a megabyte — and reports the chunk data
 * found as views into the input; fed the same message split at any points it gives the same data.
 * Extensions are skipped (bounded); trailer fields are checked for framing and discarded (§7.1.2
 * allows a recipient to discard them).
 */
export class ChunkedDecoder {
  #state = ChunkState.Size;
  #limits: ChunkedLimits;
  /** Bytes left in the current chunk (Data state) or the size being read (Size states). */
  #size = 0;
  #digits = 0;
  #extensionBytes = 0;
  #trailerBytes = 0;
  #total = 0;

  constructor(limits: ChunkedLimits) {
    this.#limits = limits;
  }

  /** True once the last chunk and the trailer section have been read. */
  get done(): boolean {
    return this.#state === ChunkState.Done;
  }

  /**
   * Consumes `input[from, to)` up to the end of the message at most. Calls `onData` with each run
   * of chunk data (a view into `input`). Returns the index where it stopped. Throws `HttpError`.
   */
  decode(
    input: Uint8Array,
    from: number,
    to: number,
    onData: (data: Uint8Array) => void,
  ): number {
    let i = from;
    while (i < to && this.#state !== ChunkState.Done) {
      if (this.#state === ChunkState.Data) {
        const n = Math.min(this.#size, to - i);
        onData(input.subarray(i, i + n));
        i += n;
        this.#size -= n;
        if (this.#size === 0) this.#state = ChunkState.DataCr;
        continue;
      }
      this.#step(input[i++]);
    }
    return i;
  }

  #step(byte: number): void {
    switch (this.#state) {
      case ChunkState.Size:
      case ChunkState.SizeMore: {
        const digit = hexValue(byte);
        if (digit !== -1) {
          if (++this.#digits > MAX_SIZE_DIGITS) throw chunkError("chunk size has too many digits");
          this.#size = this.#size * 16 + digit;
          if (this.#total + this.#size > this.#limits.maxBodyBytes) {
            throw new HttpError(
              413,
              `chunked body is over the ${this.#limits.maxBodyBytes} byte limit`,
            );
          }
          this.#state = ChunkState.SizeMore;
          return;
        }
        if (this.#state === ChunkState.Size) {
          throw chunkError("chunk size must start with a hex digit");
        }
        if (byte === 0x0d) this.#state = ChunkState.SizeLf;
        // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): blanks only before ";".
        else if (byte === 0x3b) this.#state = ChunkState.Ext;
        else if (byte === 0x20 || byte === 0x09) this.#state = ChunkState.ExtBlank;
        else throw chunkError(`invalid byte 0x${byte.toString(16)} after the chunk size`);
        return;
      }
      case ChunkState.ExtBlank:
        this.#countExtension();
        if (byte === 0x3b) this.#state = ChunkState.Ext;
        else if (byte !== 0x20 && byte !== 0x09) {
          throw chunkError("whitespace after a chunk size must lead to a chunk extension");
        }
        return;
      case ChunkState.Ext:
        this.#countExtension();
        if (byte === 0x0d) this.#state = ChunkState.SizeLf;
        else if (!FIELD_VALUE_BYTE[byte]) throw chunkError("invalid byte in a chunk extension");
        return;
      case ChunkState.SizeLf:
        if (byte !== 0x0a) throw chunkError("chunk size line must end with CRLF");
        this.#total += this.#size;
        this.#digits = 0;
        this.#extensionBytes = 0;
        this.#state = this.#size === 0 ? ChunkState.TrailerStart : ChunkState.Data;
        return;
      case ChunkState.DataCr:
        if (byte !== 0x0d) throw chunkError("chunk data must be followed by CRLF");
        this.#state = ChunkState.DataLf;
        return;
      case ChunkState.DataLf:
        if (byte !== 0x0a) throw chunkError("chunk data must be followed by CRLF");
        this.#state = ChunkState.Size;
        return;
      case ChunkState.TrailerStart:
        if (byte === 0x0d) {
          this.#state = ChunkState.EndLf;
          return;
        }
        // A trailer section is field lines (RFC 9112 §7.1.2): `token ":" value`, no obs-fold.
        // Anything else — a request line, say — must not be swallowed as a "trailer".
        this.#countTrailer();
        if (!TOKEN_BYTE[byte]) throw chunkError("trailer line is not a field line");
        this.#state = ChunkState.TrailerName;
        return;
      case ChunkState.TrailerName:
        this.#countTrailer();
        if (byte === 0x3a) this.#state = ChunkState.TrailerValue;
        else if (!TOKEN_BYTE[byte]) {
          throw chunkError("trailer field name must be a token and a colon");
        }
        return;
      case ChunkState.TrailerValue:
        this.#countTrailer();
        if (byte === 0x0d) this.#state = ChunkState.TrailerLf;
        else if (!FIELD_VALUE_BYTE[byte]) throw chunkError("invalid byte in a trailer field");
        return;
      case ChunkState.TrailerLf:
        if (byte !== 0x0a) throw chunkError("trailer field must end with CRLF");
        this.#state = ChunkState.TrailerStart;
        return;
      case ChunkState.EndLf:
        if (byte !== 0x0a) throw chunkError("chunked body must end with CRLF");
        this.#state = ChunkState.Done;
        return;
    }
  }

  #countExtension(): void {
    if (++this.#extensionBytes > this.#limits.maxExtensionBytes) {
      throw chunkError(`chunk extensions longer than ${this.#limits.maxExtensionBytes} bytes`);
    }
  }

  #countTrailer(): void {
    if (++this.#trailerBytes > this.#limits.maxTrailerBytes) {
      throw new HttpError(431, `trailer section larger than ${this.#limits.maxTrailerBytes} bytes`);
    }
  }
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  return -1;
}

function chunkError(message: string): HttpError {
  return new HttpError(400, `bad chunked body: ${message}`);
}

/** Where a request body stands, as the connection sees it after the handler answered. */
export type BodyState = "unread" | "reading" | "done" | "failed";

/** Largest piece handed to the handler in one read of a streamed body. */
const BODY_READ_BYTES = 64 * 1024;

/**
 * One request's body, read lazily from the connection's reader: nothing is read until the handler
 * pulls, so a handler that ignores the body pays nothing (and 100-continue is not sent).
 */
export class IncomingBody {
  /** Null only for `EMPTY_BODY`, which is done from the start and never reads. */
  #reader: BufferedReader | null;
  #remaining: number;
  #decoder: ChunkedDecoder | null;
  #state: BodyState = "unread";
  #onFirstRead: (() => Promise<void>) | null;
  /** A read is under way (the handler's): nobody else may read the connection meanwhile. */
  #busy = false;

  constructor(
    reader: BufferedReader | null,
    framing: BodyFraming,
    limits: ChunkedLimits,
    onFirstRead: (() => Promise<void>) | null,
  ) {
    this.#reader = reader;
    this.#onFirstRead = onFirstRead;
    this.#remaining = framing.kind === "length" ? framing.length : 0;
    this.#decoder = framing.kind === "chunked" ? new ChunkedDecoder(limits) : null;
    if (framing.kind === "none" || (framing.kind === "length" && framing.length === 0)) {
      this.#state = "done";
    }
  }

  get state(): BodyState {
    return this.#state;
  }

  /** Bytes known to be left (Content-Length framing); -1 when unknown (chunked). */
  get remaining(): number {
    return this.#decoder ? -1 : this.#remaining;
  }

  /**
   * The next piece of the body, copied out of the connection's buffer; null at the end.
   * Throws `HttpError` for malformed framing or a body cut short by the peer.
   */
  async read(): Promise<Uint8Array | null> {
    if (this.#state === "done") return null;
    if (this.#state === "failed") throw new HttpError(400, "request body is unreadable");
    this.#busy = true;
    try {
      if (this.#state === "unread") {
        this.#state = "reading";
        const onFirstRead = this.#onFirstRead;
        this.#onFirstRead = null;
        if (onFirstRead) await onFirstRead();
      }
      const piece = this.#decoder ? await this.#readChunked() : await this.#readLength();
      if (piece === null) this.#state = "done";
      return piece;
    } catch (error) {
      this.#state = "failed";
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  async #readLength(): Promise<Uint8Array | null> {
    if (this.#remaining === 0) return null;
    const bytes = await this.#reader!.readSome(Math.min(this.#remaining, BODY_READ_BYTES));
    if (bytes === null) throw truncated();
    this.#remaining -= bytes.length;
    return bytes.slice();
  }

  async #readChunked(): Promise<Uint8Array | null> {
    const decoder = this.#decoder!;
    const reader = this.#reader!;
    for (;;) {
      if (decoder.done) return null;
      if (reader.buffered === 0 && await reader.fill() === null) throw truncated();
      const input = reader.peek();
      const pieces: Uint8Array[] = [];
      const used = decoder.decode(input, 0, Math.min(input.length, BODY_READ_BYTES), (data) => {
        pieces.push(data);
      });
      // Copied: the decoder's views point into the connection's reused buffer.
      const data = concatBytes(pieces);
      reader.consume(used);
      if (data.length > 0) return data;
    }
  }

  /**
   * Reads and discards the rest of the body so the connection can carry the next request, but at
   * most `maxBytes`; returns false if the body could not be finished (too long, malformed, cut),
   * or if the handler is still reading it: two readers of one connection would each get pieces
   * of the other's, so the connection is closed instead.
   */
  async drain(maxBytes: number): Promise<boolean> {
    if (this.#state === "done") return true;
    if (this.#state === "failed" || this.#busy) return false;
    if (this.#remaining > maxBytes) return false;
    this.#onFirstRead = null; // the handler never asked for the body: no 100 Continue now
    let discarded = 0;
    try {
      for (let piece = await this.read(); piece !== null; piece = await this.read()) {
        discarded += piece.length;
        if (discarded > maxBytes) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** The body as a lazily pulled stream, as `Request.body` wants it. */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const piece = await this.read();
        if (piece === null) controller.close();
        else controller.enqueue(piece);
      },
    }, { highWaterMark: 0 });
  }
}

/**
 * The body of every request without one, on every connection: it is done from the start and stays
 * so (nothing reads it), so one serves them all and an idle connection holds none of its own.
 */
export const EMPTY_BODY: IncomingBody = new IncomingBody(null, NO_BODY, {
  maxBodyBytes: 0,
  maxExtensionBytes: 0,
  maxTrailerBytes: 0,
}, null);

function truncated(): HttpError {
  return new HttpError(400, "connection closed before the end of the request body");
}
