/**
 * The proxy's HTTP/1.1 client on one backend connection: writes a request head, streams the
 * request body after it (Content-Length as given, or chunked), reads the response head with the
 * strict parser (http1/response_head.ts) through the project's `BufferedReader`, and hands the
 * response body out as a stream that is read from the socket only as fast as it is consumed.
 *
 * A body that ends before its framing says it is complete (the backend died mid-response, or
 * sent a malformed chunk) errors the stream: the server then cuts the client's connection
 * instead of passing a truncated body off as a whole one.
 */
import { ChunkedDecoder } from "../../http1/request_body.ts";
import { BufferedReader } from "../../io/reader.ts";
import { writeAll } from "../../io/writer.ts";
import { findHeadEnd, listTokens } from "../../http1/parse.ts";
import {
  DEFAULT_RESPONSE_HEAD_LIMITS,
  parseResponseHead,
  responseFieldValues,
  type ResponseFraming,
  responseFraming,
  type ResponseHead,
} from "../../http1/response_head.ts";
import { describeError } from "../os_error.ts";

/** Largest piece of a response body handed on at once. */
const BODY_PIECE_BYTES = 64 * 1024;
/** Bounds of a chunked response body's framing (its data is not bounded: it streams through). */
const CHUNKED_LIMITS = {
  maxBodyBytes: Number.MAX_SAFE_INTEGER,
  maxExtensionBytes: 4096,
  maxTrailerBytes: 16 * 1024,
};

/**
 * The backend is not answering on this connection: it failed before sending a byte of a response.
 * `reused`: on a kept-alive connection, which the backend may have closed while it was idle.
 */
export class BackendClosed extends Error {
  readonly reused: boolean;

  constructor(message: string, reused: boolean) {
    super(message);
    this.reused = reused;
  }
}

/** The backend answered with something that is not a valid HTTP/1.1 response. */
export class BackendProtocolError extends Error {}

/** How the request body is framed towards the backend. */
export type RequestBodyFraming = { kind: "none" } | { kind: "length"; length: number } | {
  kind: "chunked";
};

export interface BackendResponse {
  head: ResponseHead;
  /** The body, read from the socket as it is pulled; null when the response has none. */
  body: ReadableStream<Uint8Array> | null;
  framing: ResponseFraming;
  /**
   * Settles once the exchange is over: true when the connection can carry another request (the
   * request body was sent whole, the response body read whole, neither side asked to close).
   * Never settles after a 101: the connection then belongs to the tunnel (tunnel.ts).
   */
  done: Promise<boolean>;
}

const encoder = new TextEncoder();
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** One connection to a backend, with its reader. */
export class BackendConnection {
  readonly conn: Deno.Conn;
  readonly reader: BufferedReader;
  /** Whether a request has been sent on it before (a kept-alive connection). */
  used = false;
  #closed = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
    this.reader = new BufferedReader(conn);
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // closed by the other side's reset already
    }
  }

  /**
   * Sends one request and reads its response head; 1xx interim responses other than 101 are
   * skipped. Rejects with BackendClosed when the connection fails before any byte of a response
   * (a kept-alive connection the backend closed meanwhile: the caller may retry on a new one), or
   * BackendProtocolError for a malformed response.
   */
  async exchange(
    head: string,
    method: string,
    body: ReadableStream<Uint8Array> | null,
    bodyFraming: RequestBodyFraming,
    onBodyError: (message: string) => void = () => {},
  ): Promise<BackendResponse> {
    const reused = this.used;
    this.used = true;
    try {
      await writeAll(this.conn, latin1Bytes(head));
    } catch (error) {
      this.close();
      throw new BackendClosed(`writing the request failed: ${describeError(error)}`, reused);
    }
    const sent = body === null ? Promise.resolve(true) : this.#sendBody(body, bodyFraming);
    let response: ResponseHead;
    try {
      response = await this.#readHead(reused);
    } catch (error) {
      this.close();
      body?.cancel().catch(() => {});
      throw error;
    }
    if (response.status === 101) {
      // The bytes after the head are the new protocol's: the connection is the caller's now.
      return { head: response, body: null, framing: { kind: "none" }, done: new Promise(() => {}) };
    }
    const framing = responseFraming(response, method);
    if (framing.kind === "error") {
      this.close();
      throw new BackendProtocolError(framing.reason);
    }
    const ended = Promise.withResolvers<boolean>();
    const stream = framing.kind === "none"
      ? null
      : this.#bodyStream(framing, ended.resolve, onBodyError);
    if (stream === null) ended.resolve(true);
    const keepAlive = response.minor === 1 && !hasToken(response, "connection", "close") &&
      framing.kind !== "close";
    const done = Promise.all([sent, ended.promise]).then(([a, b]) => {
      const reusable = a && b && keepAlive && !this.#closed;
      if (!reusable) this.close();
      return reusable;
    });
    return { head: response, body: stream, framing, done };
  }

  /** Writes the request body in its framing; false (and the connection closed) if it failed. */
  async #sendBody(body: ReadableStream<Uint8Array>, framing: RequestBodyFraming): Promise<boolean> {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.length === 0) continue;
        if (framing.kind === "chunked") {
          await writeAll(this.conn, encoder.encode(`${value.length.toString(16)}\r\n`));
          await writeAll(this.conn, value);
          await writeAll(this.conn, encoder.encode("\r\n"));
        } else await writeAll(this.conn, value);
      }
      if (framing.kind === "chunked") await writeAll(this.conn, LAST_CHUNK);
      return true;
    } catch {
      // The client's body failed (it went away) or the backend stopped reading: this exchange
      // cannot end cleanly, so the connection goes.
      reader.cancel().catch(() => {});
      this.close();
      return false;
    }
  }

  async #readHead(reused: boolean): Promise<ResponseHead> {
    const reader = this.reader;
    for (;;) {
      let result;
      try {
        result = await reader.readMatch(findHeadEnd, DEFAULT_RESPONSE_HEAD_LIMITS.maxHeadBytes, 2);
      } catch (error) {
        if (this.#closed) throw new BackendClosed("the connection was closed", reused);
        throw new BackendClosed(`reading the response failed: ${describeError(error)}`, reused);
      }
      if (result.status === "eof") {
        throw new BackendClosed("the backend closed the connection without answering", reused);
      }
      if (result.status === "truncated") {
        throw new BackendProtocolError("the backend closed the connection in the response head");
      }
      if (result.status === "limit") {
        throw new BackendProtocolError(
          `response head is larger than ${DEFAULT_RESPONSE_HEAD_LIMITS.maxHeadBytes} bytes`,
        );
      }
      const parsed = parseResponseHead(result.bytes);
      if (parsed.status !== "complete") {
        throw new BackendProtocolError(
          parsed.status === "error" ? parsed.reason : "incomplete response head",
        );
      }
      // 100 Continue, 102, 103 Early Hints: interim, the final response follows (RFC 9110 §15.2).
      if (parsed.head.status >= 200 || parsed.head.status === 101) return parsed.head;
    }
  }

  /** The response body as a pull stream; `ended(true)` once it was read whole. */
  #bodyStream(
    framing: ResponseFraming,
    ended: (whole: boolean) => void,
    onError: (message: string) => void,
  ): ReadableStream<Uint8Array> {
    const reader = this.reader;
    let remaining = framing.kind === "length" ? framing.length : Infinity;
    const decoder = framing.kind === "chunked" ? new ChunkedDecoder(CHUNKED_LIMITS) : null;
    const fail = (controller: ReadableStreamDefaultController<Uint8Array>, message: string) => {
      this.close();
      ended(false);
      onError(message);
      controller.error(new BackendProtocolError(message));
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          if (decoder !== null) {
            for (;;) {
              if (decoder.done) {
                ended(true);
                controller.close();
                return;
              }
              if (reader.buffered === 0 && await reader.fill() === null) {
                return fail(controller, "the backend closed the connection mid-body (chunked)");
              }
              const input = reader.peek();
              const pieces: Uint8Array[] = [];
              const used = decoder.decode(
                input,
                0,
                input.length,
                (data) => pieces.push(data.slice()),
              );
              reader.consume(used);
              for (const piece of pieces) controller.enqueue(piece);
              if (pieces.length > 0) return;
            }
          }
          if (remaining === 0) {
            ended(true);
            controller.close();
            return;
          }
          const piece = await reader.readSome(Math.min(remaining, BODY_PIECE_BYTES));
          if (piece === null) {
            if (framing.kind === "close") {
              ended(false); // read to the end: whole, but the connection is done
              controller.close();
              return;
            }
            return fail(controller, `the backend closed the connection ${remaining} bytes short`);
          }
          remaining -= piece.length;
          controller.enqueue(piece.slice());
        } catch (error) {
          fail(controller, `reading the response body failed: ${describeError(error)}`);
        }
      },
      cancel: () => {
        // The client went away: the rest of this body will never be read.
        this.close();
        ended(false);
      },
    }, { highWaterMark: 0 });
  }
}

/** Whether a field of `head` lists `token` (case-insensitively). */
function hasToken(head: ResponseHead, name: string, token: string): boolean {
  return listTokens(responseFieldValues(head, name)).includes(token);
}

/** A head's text as bytes, one per character (field values are ByteStrings). */
function latin1Bytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
