/**
 * The request-head parser: RFC 9112 §2–5, strict, as a pure function over bytes.
 *
 * Two steps, as picohttpparser does it: `findHeadEnd` says whether a complete head is buffered
 * (complete / incomplete) without allocating, and `parseHead` turns a complete head into a
 * `RequestHead` or throws an `HttpError` naming exactly what was wrong. Neither touches a socket,
 * and what they return depends on the bytes alone (strings a client repeats are reused from
 * strings.ts's table, but they are the same strings).
 *
 * Strictness is a security property here: every byte sequence that two HTTP implementations could
 * read differently (bare LF, bare CR, obs-fold, whitespace before the colon, two Host fields) is
 * refused rather than interpreted, because a front-end proxy that interprets it otherwise is how
 * request smuggling starts.
 */
import { HttpError } from "../errors.ts";
// Fields map to strings as Latin-1 (one byte, one UTF-16 code unit); repeated ones are reused.
import { latin1, lowerToken } from "./strings.ts";

export type TargetForm = "origin" | "absolute" | "asterisk";

export interface RequestHead {
  /** The method token, case kept (methods are case-sensitive, RFC 9110 §9.1). */
  method: string;
  /** The request-target exactly as sent. */
  target: string;
  form: TargetForm;
  /** HTTP/1.x minor version: 0 or 1. */
  minor: number;
  /** Field lines in order, flattened: name (lower-cased), value (OWS trimmed), name, value, … */
  fields: string[];
}

/** The limits `parseHead` enforces; the same names as the server's `Limits`. */
export interface HeadLimits {
  maxUriBytes: number;
  maxHeaderBytes: number;
  maxHeaderCount: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

function byteClass(test: (byte: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) table[b] = test(b) ? 1 : 0;
  return table;
}

/** tchar, RFC 9110 §5.6.2: the characters of methods and field names. */
export const TOKEN_BYTE = byteClass((b) =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
  "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b))
);
/** Visible ASCII (VCHAR): what a request-target may contain; no spaces, controls or 8-bit bytes. */
const TARGET_CHAR = byteClass((b) => b >= 0x21 && b <= 0x7e);
/**
 * field-vchar / SP / HTAB, RFC 9110 §5.5: VCHAR and obs-text (0x80–0xFF) plus blanks. NUL, CR,
 * LF and the other controls are invalid in a value; "MUST" reject or replace (we reject).
 */
export const FIELD_VALUE_BYTE = byteClass((b) => b === HTAB || (b >= 0x20 && b !== 0x7f));

/**
 * Finds the end of the head: the index just past the first empty line, or -1 if it has not arrived.
 * An empty line written with a bare LF also ends the search, so that `parseHead` can refuse it at
 * once instead of waiting for a CRLF CRLF that will never come.
 * Signature of `Matcher` in io/reader.ts: `from` is where new bytes start (minus an overlap of
 * 2).
 */
export function findHeadEnd(buf: Uint8Array, _start: number, from: number, to: number): number {
  // `indexOf` runs on to the end of `buf`, past `to` (see `Matcher`). It stops by `to - 1` when
  // that byte is an LF, as the last byte of a read that ends a request is; else it searches a
  // view that ends at `to`.
  const within = buf[to - 1] === LF ? buf : buf.subarray(0, to);
  for (let i = within.indexOf(LF, from); i !== -1 && i < to; i = within.indexOf(LF, i + 1)) {
    if (i + 1 < to && buf[i + 1] === LF) return i + 2;
    if (i + 2 < to && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** How many bytes of overlap `findHeadEnd` needs when it rescans after a read. */
export const HEAD_END_OVERLAP = 2;

/**
 * For a head that is still incomplete in `buf[start, to)`: the error to answer now if it is
 * already over a limit (414 for a request line with no end in sight, 431 for the field lines),
 * so a client cannot make the server buffer more than the limits while it waits.
 */
export function incompleteHeadError(
  buf: Uint8Array,
  start: number,
  to: number,
  limits: HeadLimits,
): HttpError | null {
  const lineLimit = start + limits.maxUriBytes + 2;
  const lf = buf.subarray(0, Math.min(to, lineLimit)).indexOf(LF, start);
  if (lf === -1) {
    return to >= lineLimit
      ? new HttpError(414, `request line is longer than ${limits.maxUriBytes} bytes`)
      : null;
  }
  return to - (lf + 1) > limits.maxHeaderBytes + 2
    ? new HttpError(431, `header section is larger than ${limits.maxHeaderBytes} bytes`)
    : null;
}

/**
 * Parses a complete request head `buf[start, end)` (as delimited by `findHeadEnd`).
 * Throws `HttpError` with the status the client should see.
 */
export function parseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  limits: HeadLimits,
): RequestHead {
  const lineEnd = lineEndAt(buf, start, end, limits.maxUriBytes);
  // The header section: every field line with its CRLF, not the empty line that ends the head.
  if (end - lineEnd - 4 > limits.maxHeaderBytes) {
    throw new HttpError(431, `header section is larger than ${limits.maxHeaderBytes} bytes`);
  }

  // request-line = method SP request-target SP HTTP-version (RFC 9112 §3). Exactly one SP
  // between the parts: §3 allows lenient whitespace splitting, we do not (smuggling vector).
  let i = start;
  while (TOKEN_BYTE[buf[i]]) i++;
  if (i === start || buf[i] !== SP) {
    throw new HttpError(400, "request line must start with a method token and one space");
  }
  const method = latin1(buf, start, i);
  const targetStart = ++i;
  while (TARGET_CHAR[buf[i]]) i++;
  if (i === targetStart || buf[i] !== SP) {
    throw new HttpError(
      400,
      "request-target must be visible ASCII without spaces, followed by one space",
    );
  }
  const target = latin1(buf, targetStart, i);
  const minor = parseVersion(buf, i + 1, lineEnd);

  // Created with its first field: a request from a tool carries one or two, and `[name, value]` is
  // an array of two slots where an empty one grows to sixteen on its first push (110 of the 306
  // bytes a head like wrk's cost).
  let fields: string[] | null = null;
  let hosts = 0;
  let pos = lineEnd + 2;
  for (;;) {
    if (buf[pos] === CR && buf[pos + 1] === LF) break;
    if (buf[pos] === LF) throw bareLf();
    if (buf[pos] === SP || buf[pos] === HTAB) {
      // RFC 9112 §5.2: a server MUST reject obs-fold in a request (or replace it; we reject).
      throw new HttpError(400, "obsolete line folding (a field line starting with whitespace)");
    }
    if ((fields === null ? 0 : fields.length) >= limits.maxHeaderCount * 2) {
      throw new HttpError(431, `more than ${limits.maxHeaderCount} header fields`);
    }
    const nameStart = pos;
    while (TOKEN_BYTE[buf[pos]]) pos++;
    if (buf[pos] !== COLON) {
      if (buf[pos] === SP || buf[pos] === HTAB) {
        // RFC 9112 §5.1: "A server MUST reject ... any received request message that contains
        // whitespace between a header field name and colon with a response status code of 400".
        throw new HttpError(400, "whitespace between a field name and its colon");
      }
      throw new HttpError(400, "field name must be a token followed by a colon");
    }
    if (pos === nameStart) throw new HttpError(400, "empty field name");
    const name = lowerToken(buf, nameStart, pos);
    pos++;
    while (buf[pos] === SP || buf[pos] === HTAB) pos++;
    const valueStart = pos;
    while (FIELD_VALUE_BYTE[buf[pos]]) pos++;
    if (buf[pos] !== CR) {
      if (buf[pos] === LF) throw bareLf();
      throw new HttpError(400, `invalid byte 0x${hex(buf[pos])} in the value of field "${name}"`);
    }
    if (buf[pos + 1] !== LF) throw bareCr();
    let valueEnd = pos;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) {
      valueEnd--;
    }
    const value = latin1(buf, valueStart, valueEnd);
    if (fields === null) fields = [name, value];
    else fields.push(name, value);
    if (name === "host") hosts++;
    pos += 2;
  }

  // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1
  // request message that lacks a Host header field and to any request message that contains more
  // than one Host header field line or a Host header field with an invalid field value."
  if (hosts > 1) throw new HttpError(400, "more than one Host field");
  if (hosts === 0 && minor === 1) throw new HttpError(400, "HTTP/1.1 request without a Host field");

  return { method, target, form: targetForm(method, target), minor, fields: fields ?? [] };
}

/**
 * Index of the CR of the line starting at `start`. Lines end with CRLF (RFC 9112 §2.2). A bare LF
 * is refused: §2.2 lets a recipient accept it ("MAY recognize a single LF"), but a proxy in front
 * that does not would see different message boundaries than we do — a smuggling vector — so we
 * take the strict side. A bare CR "MUST" be treated as invalid or replaced: we treat it as invalid.
 */
function lineEndAt(buf: Uint8Array, start: number, end: number, maxUriBytes: number): number {
  const lf = buf.indexOf(LF, start);
  if (lf === -1 || lf >= end) throw new HttpError(400, "request head has no line end");
  // Length first, with the same measure as `incompleteHeadError`, so that the answer does not
  // depend on whether the line arrived in one read or in many.
  if (lf - start > maxUriBytes + 1) {
    throw new HttpError(414, `request line is longer than ${maxUriBytes} bytes`);
  }
  if (lf === start || buf[lf - 1] !== CR) throw bareLf();
  return lf - 1;
}

/** DIGIT (RFC 5234 §B.1); the module's, not a closure made in each call (57 bytes a head). */
function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3); we speak 1.0 and 1.1. */
function parseVersion(buf: Uint8Array, start: number, end: number): number {
  if (
    end - start !== 8 || buf[start] !== 0x48 || buf[start + 1] !== 0x54 ||
    buf[start + 2] !== 0x54 || buf[start + 3] !== 0x50 || buf[start + 4] !== 0x2f ||
    !isDigit(buf[start + 5]) || buf[start + 6] !== 0x2e || !isDigit(buf[start + 7])
  ) {
    const bytes = buf.subarray(start, end);
    if (bytes.includes(CR)) throw bareCr();
    throw new HttpError(400, 'HTTP version must be "HTTP/" digit "." digit');
  }
  const major = buf[start + 5] - 0x30;
  const minor = buf[start + 7] - 0x30;
  if (major !== 1 || minor > 1) {
    throw new HttpError(505, `HTTP/${major}.${minor} is not supported; use HTTP/1.1 or HTTP/1.0`);
  }
  return minor;
}

const ASTERISK_METHODS = new Set(["OPTIONS", "M-SEARCH", "NOTIFY"]);

/** RFC 9112 §3.2: which of the four request-target forms this is, refusing what we don't serve. */
function targetForm(method: string, target: string): TargetForm {
  if (method === "CONNECT") {
    throw new HttpError(501, "CONNECT (authority-form targets) is not supported", {
      close: true,
    });
  }
  if (target.charCodeAt(0) === 0x2f) return "origin";
  if (target === "*") {
    // RFC 9112 §3.2.4 gives "*" to OPTIONS; HTTP over UDP (UPnP's SSDP) also sends M-SEARCH and
    // NOTIFY to "*", and the datagram transport shares this parser.
    if (!ASTERISK_METHODS.has(method)) {
      throw new HttpError(400, 'the "*" target is only for OPTIONS (and SSDP\'s M-SEARCH, NOTIFY)');
    }
    return "asterisk";
  }
  if (/^https?:\/\/[^/]/i.test(target)) return "absolute";
  throw new HttpError(400, 'request-target must start with "/" or be an absolute http(s) URL');
}

function bareLf(): HttpError {
  return new HttpError(400, "line ends with a bare LF; HTTP/1.1 lines end with CRLF");
}

function bareCr(): HttpError {
  return new HttpError(400, "bare CR (not followed by LF) in the request head");
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/** What `fieldValues` and `listTokens` return for nothing: shared, so a miss allocates nothing. */
const NONE: readonly string[] = Object.freeze([]);

/** The values of every field named `name` (lower case), in order. */
export function fieldValues(head: RequestHead, name: string): readonly string[] {
  let values: string[] | null = null;
  const fields = head.fields;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === name) (values ??= []).push(fields[i + 1]);
  }
  return values ?? NONE;
}

/**
 * The comma-separated elements of every `name` field, trimmed and lower-cased, empty elements
 * dropped (RFC 9110 §5.6.1: a recipient MUST accept and ignore empty list elements).
 */
export function fieldTokens(head: RequestHead, name: string): readonly string[] {
  return listTokens(fieldValues(head, name));
}

/** The elements of comma-separated list values, trimmed, lower-cased, empty ones dropped. */
export function listTokens(values: readonly string[]): readonly string[] {
  if (values.length === 0) return NONE;
  const tokens: string[] = [];
  for (const value of values) {
    for (const element of value.split(",")) {
      const token = element.trim().toLowerCase();
      if (token !== "") tokens.push(token);
    }
  }
  return tokens;
}
