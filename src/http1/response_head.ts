/**
 * The response-head parser of the proxy's client: RFC 9112 §4–5 and §6.3, strict, as a pure
 * function over bytes. `parseResponseHead` says complete (with the head and its length, so the
 * bytes after it stay for the body), incomplete (wait for more), or error (close the backend
 * connection and answer 502). `responseFraming` says how the body after it is delimited.
 *
 * Strict in the request parser's ways (parse.ts), and for the same reason: a proxy that reads a
 * response's boundaries differently from its backend passes one response's bytes off as another's.
 * A bare LF or CR, obs-fold, whitespace before a colon, a Content-Length that is not one number,
 * and Transfer-Encoding next to Content-Length are all errors rather than guesses.
 */
import { FIELD_VALUE_BYTE, findHeadEnd, listTokens, TOKEN_BYTE } from "./parse.ts";
import { latin1, lowerToken } from "./strings.ts";

export interface ResponseHead {
  /** HTTP/1.x minor version: 0 or 1. */
  minor: number;
  status: number;
  /** The reason phrase as sent (possibly empty). */
  reason: string;
  /** Field lines in order, flattened: name (lower-cased), value (OWS trimmed), name, value, … */
  fields: string[];
}

export type ResponseHeadResult =
  | { status: "complete"; head: ResponseHead; length: number }
  | { status: "incomplete" }
  | { status: "error"; reason: string };

/** Bounds of a response head; what Go's Transport allows (10 MiB) is far more than needed. */
export interface ResponseHeadLimits {
  /** The whole head, status line and field lines, in bytes. */
  maxHeadBytes: number;
  maxFieldCount: number;
}

export const DEFAULT_RESPONSE_HEAD_LIMITS: Readonly<ResponseHeadLimits> = Object.freeze({
  maxHeadBytes: 64 * 1024,
  maxFieldCount: 200,
});

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

const INCOMPLETE: ResponseHeadResult = Object.freeze({ status: "incomplete" });

function error(reason: string): ResponseHeadResult {
  return { status: "error", reason };
}

/**
 * Parses the head at the start of `bytes`. Incomplete until the empty line that ends it has
 * arrived, unless the bytes are already over `maxHeadBytes`; fed any prefix of a stream, it gives
 * incomplete or the very answer the whole stream gives.
 */
export function parseResponseHead(
  bytes: Uint8Array,
  limits: ResponseHeadLimits = DEFAULT_RESPONSE_HEAD_LIMITS,
): ResponseHeadResult {
  const end = findHeadEnd(bytes, 0, 0, Math.min(bytes.length, limits.maxHeadBytes));
  if (end === -1) {
    return bytes.length >= limits.maxHeadBytes
      ? error(`response head is larger than ${limits.maxHeadBytes} bytes`)
      : INCOMPLETE;
  }
  try {
    return { status: "complete", head: parseComplete(bytes, end, limits), length: end };
  } catch (thrown) {
    if (thrown instanceof HeadError) return error(thrown.message);
    throw thrown;
  }
}

class HeadError extends Error {}

/** Parses `buf[0, end)`, a head `findHeadEnd` delimited. Throws HeadError. */
function parseComplete(buf: Uint8Array, end: number, limits: ResponseHeadLimits): ResponseHead {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4).
  if (
    end < 12 || buf[0] !== 0x48 || buf[1] !== 0x54 || buf[2] !== 0x54 || buf[3] !== 0x50 ||
    buf[4] !== 0x2f || !isDigit(buf[5]) || buf[6] !== 0x2e || !isDigit(buf[7])
  ) {
    throw new HeadError('status line must start with "HTTP/" digit "." digit');
  }
  if (buf[5] !== 0x31 || buf[7] > 0x31) {
    throw new HeadError(`HTTP/${buf[5] - 0x30}.${buf[7] - 0x30} is not HTTP/1.0 or HTTP/1.1`);
  }
  const minor = buf[7] - 0x30;
  if (buf[8] !== SP || !isDigit(buf[9]) || !isDigit(buf[10]) || !isDigit(buf[11])) {
    throw new HeadError("status code must be three digits after one space");
  }
  const status = (buf[9] - 0x30) * 100 + (buf[10] - 0x30) * 10 + (buf[11] - 0x30);
  if (status < 100) throw new HeadError(`status code ${status} is below 100`);
  let pos = 12;
  let reason = "";
  // The SP before an empty reason is required by the grammar; some servers leave it out, and
  // a line that ends right after the code cannot be read two ways, so it is accepted.
  if (buf[pos] === SP) {
    const start = ++pos;
    while (FIELD_VALUE_BYTE[buf[pos]]) pos++;
    reason = latin1(buf, start, pos);
  }
  pos = lineEnd(buf, pos);

  const fields: string[] = [];
  for (;;) {
    if (buf[pos] === CR && buf[pos + 1] === LF) break;
    if (buf[pos] === LF) throw bareLf();
    if (buf[pos] === SP || buf[pos] === HTAB) {
      throw new HeadError("obsolete line folding (a field line starting with whitespace)");
    }
    if (fields.length >= limits.maxFieldCount * 2) {
      throw new HeadError(`more than ${limits.maxFieldCount} header fields`);
    }
    const nameStart = pos;
    while (TOKEN_BYTE[buf[pos]]) pos++;
    if (buf[pos] !== COLON) {
      if (buf[pos] === SP || buf[pos] === HTAB) {
        throw new HeadError("whitespace between a field name and its colon");
      }
      throw new HeadError("field name must be a token followed by a colon");
    }
    if (pos === nameStart) throw new HeadError("empty field name");
    const name = lowerToken(buf, nameStart, pos);
    pos++;
    while (buf[pos] === SP || buf[pos] === HTAB) pos++;
    const valueStart = pos;
    while (FIELD_VALUE_BYTE[buf[pos]]) pos++;
    let valueEnd = pos;
    pos = lineEnd(buf, pos, name);
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
      valueEnd--;
    }
    fields.push(name, latin1(buf, valueStart, valueEnd));
  }
  return { minor, status, reason, fields };
}

/** Checks that a CRLF is at `pos`; returns the index after it. */
function lineEnd(buf: Uint8Array, pos: number, field?: string): number {
  if (buf[pos] === CR && buf[pos + 1] === LF) return pos + 2;
  if (buf[pos] === LF) throw bareLf();
  if (buf[pos] === CR) throw new HeadError("bare CR (not followed by LF) in the response head");
  const where = field === undefined ? "the status line" : `the value of field "${field}"`;
  throw new HeadError(`invalid byte 0x${buf[pos].toString(16).padStart(2, "0")} in ${where}`);
}

function bareLf(): HeadError {
  return new HeadError("line ends with a bare LF; HTTP/1.1 lines end with CRLF");
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** The values of every field named `name` (lower case), in order. */
export function responseFieldValues(head: ResponseHead, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < head.fields.length; i += 2) {
    if (head.fields[i] === name) values.push(head.fields[i + 1]);
  }
  return values;
}

/** How a response body is delimited (RFC 9112 §6.3). */
export type ResponseFraming =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  /** Until the backend closes: the connection cannot carry another response. */
  | { kind: "close" }
  | { kind: "error"; reason: string };

/** The body's framing after `head`, answering a request with `method`. */
export function responseFraming(head: ResponseHead, method: string): ResponseFraming {
  const status = head.status;
  // §6.3 rule 1: these never have a body, whatever the fields say.
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) {
    return { kind: "none" };
  }
  const encodings = responseFieldValues(head, "transfer-encoding");
  const lengths = responseFieldValues(head, "content-length");
  if (encodings.length > 0) {
    // §6.3 rule 3 lets Transfer-Encoding win; a message with both is how smuggling starts.
    if (lengths.length > 0) {
      return { kind: "error", reason: "both Transfer-Encoding and Content-Length" };
    }
    if (head.minor === 0) {
      return { kind: "error", reason: "Transfer-Encoding in an HTTP/1.0 response" };
    }
    const codings = listTokens(encodings);
    if (codings.at(-1) !== "chunked") return { kind: "close" };
    if (codings.length > 1) {
      return { kind: "error", reason: `transfer coding "${codings[0]}" is not supported` };
    }
    return { kind: "chunked" };
  }
  if (lengths.length === 0) return { kind: "close" };
  let length = -1;
  for (const value of lengths) {
    for (const element of value.split(",")) {
      const digits = element.trim();
      if (!/^[0-9]{1,15}$/.test(digits)) {
        return { kind: "error", reason: `Content-Length "${value}" is not a number of bytes` };
      }
      const n = Number(digits);
      if (length !== -1 && n !== length) {
        return { kind: "error", reason: "Content-Length fields with different values" };
      }
      length = n;
    }
  }
  return { kind: "length", length };
}
