/**
 * Direct answers: a handler that can also answer from the parsed request head, without a
 * `Request` or a `Response`.
 *
 * A `(Request) => Response` handler costs the engine a `Request` per request and a `Response`
 * whose status, header fields and body are read back through its getters (a file's answer has too
 * many fields for the fast path of body_source.ts): for a small file, more than the file server's
 * own work. Answering from the head serves a 1 KiB file at more than twice the rate. A handler
 * that only needs the method, the path and a few header fields — the file server — can carry a
 * second entry point under `DIRECT`: the engine calls it with a view of the head and writes its
 * `Answer` straight to bytes. The handler stays an ordinary function everywhere else
 * (`Deno.serve`, a test, a router wrapping it), where only its first entry point exists; a wrapper
 * that does not know about `DIRECT` simply turns the direct path off.
 */
import type { KnownBody } from "./body_source.ts";
import { FieldList } from "../http1/field_list.ts";
import type { ServeHandler, ServeHandlerInfo } from "../options.ts";

/** The parts of a request a direct handler sees (a subset of what a `Request` offers). */
export interface RequestView {
  /** The method, case kept. The engine only calls a direct handler for GET and HEAD. */
  readonly method: string;
  /** The URL's path, percent-encoded, exactly as `new URL(request.url).pathname` would give it. */
  readonly pathname: string;
  /** The URL's query with its "?", or "", as `new URL(request.url).search` would give it. */
  readonly search: string;
  /** Field values by name, as `Request.headers`' `get`: every value of the name, ", "-joined. */
  readonly headers: { get(name: string): string | null };
  /**
   * The read epoch (src/io/read_epoch.ts) by which the whole head had arrived, when the engine
   * knows it: a file `stat` made while that epoch, or a later one, was current is as new as this
   * request, and the file server answers it from that `stat`.
   */
  readonly receivedIn?: number;
}

/** A body the handler describes: bytes or a file range (sent without a stream), or a stream. */
export type AnswerBody = KnownBody | { kind: "stream"; stream: ReadableStream<Uint8Array> };

/** What a direct handler answers: a status, its header fields, and its body if it has one. */
export interface Answer {
  status: number;
  headers: FieldList;
  body: AnswerBody | null;
}

/**
 * The second entry point. It may return null to decline: the engine then builds the `Request`
 * and calls the handler as usual.
 */
export type DirectHandler = (
  request: RequestView,
  info: ServeHandlerInfo,
) => Answer | null | Promise<Answer | null>;

const DIRECT = Symbol("sockserve.direct");

type WithDirect = ServeHandler & { [DIRECT]?: DirectHandler };

/** Gives `handler` a direct entry point; returns the handler. */
export function withDirect<H extends ServeHandler>(handler: H, direct: DirectHandler): H {
  (handler as WithDirect)[DIRECT] = direct;
  return handler;
}

/** The direct entry point of `handler`, or null when it has none. */
export function directOf(handler: ServeHandler): DirectHandler | null {
  return (handler as WithDirect)[DIRECT] ?? null;
}

/**
 * Whether a value is an `Answer` (what a direct handler returns) rather than a `Response` (what
 * `onError` returns when it fails).
 */
export function isAnswer(value: unknown): value is Answer {
  return typeof value === "object" && value !== null && (value as Answer).headers instanceof
      FieldList;
}

/**
 * The path and query of an origin-form target when the WHATWG URL parser would leave them exactly
 * as they are, else null. The parser resolves dot segments (also spelled `%2e`), turns `\` into
 * `/`, cuts a `#fragment` and percent-encodes a few characters; a target with any of those takes
 * the `Request` path, so a direct handler sees the same path a `Request` would give it.
 */
export function plainTarget(target: string): { pathname: string; search: string } | null {
  if (!PLAIN_TARGET.test(target)) return null;
  const q = target.indexOf("?");
  const pathname = q === -1 ? target : target.slice(0, q);
  if (pathname.includes("/.") || DOT_ESCAPE.test(pathname)) return null;
  return { pathname, search: q === -1 || q === target.length - 1 ? "" : target.slice(q) };
}

/** Unreserved, sub-delims, ":", "@", "/" and "%" (RFC 3986 pchar); "'" is encoded in a query. */
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@/%?]*)?$/;
const DOT_ESCAPE = /%2e/i;
