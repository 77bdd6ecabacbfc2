/**
 * Response serialization: the status line, the header block and the framing decision
 * (RFC 9112 §4, §6.3, §7).
 */
import { imfFixdate } from "./date.ts";
import { type EncodedFields, FieldList } from "./field_list.ts";

export type { EncodedFields };
import { HttpError } from "../errors.ts";

/** Reason phrases of RFC 9110 §15 (and the few common extensions). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** How the response body is delimited on the wire. */
export type ResponseFraming =
  | { kind: "none" } // HEAD, 1xx, 204, 304: no body whatever the headers say
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" }; // HTTP/1.0 with unknown length: the end of the body is the close

let cachedSecond = -1;
let cachedDate = "";

/** The `Date` value (RFC 9110 §6.6.1, IMF-fixdate), formatted at most once a second. */
export function httpDate(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = imfFixdate(second * 1000);
  }
  return cachedDate;
}

/**
 * Header fields the engine owns: it decides the framing and the connection's fate itself, so what
 * a handler sets for them is replaced (RFC 9112 §6.1, §9.6; hop-by-hop fields of RFC 9110 §7.6.1).
 */
const ENGINE_FIELDS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/** CR, LF and NUL would end or split a header line: response splitting (RFC 9110 §5.5). */
const UNSAFE_IN_FIELD = /[\r\n\0]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Response header fields as `Headers` and `FieldList` both offer them. `forEach`, not iteration:
 * Headers' iterator costs four times as much (an object per step).
 */
export interface HeaderFields {
  forEach(callback: (value: string, name: string) => void): void;
}

/**
 * Checks and encodes a handler's header fields, in the one pass over them that a response needs.
 * Throws `HttpError(500)` if a name or value could split the response: the Headers class refuses
 * most, but a `Response` subclass might not. A `FieldList`'s encoding is kept on it: a list shared
 * by many answers is encoded once.
 */
export function encodeFields(headers: HeaderFields): EncodedFields {
  if (headers instanceof FieldList) return headers.encoded ??= encodeEach(headers);
  return encodeEach(headers);
}

function encodeEach(headers: HeaderFields): EncodedFields {
  let lines = "";
  let hasDate = false;
  let contentLength: string | null = null;
  headers.forEach((value, name) => {
    if (!TOKEN.test(name)) {
      throw new HttpError(500, `invalid response header name ${JSON.stringify(name)}`);
    }
    if (UNSAFE_IN_FIELD.test(value)) {
      throw new HttpError(500, `response header ${JSON.stringify(name)} contains CR, LF or NUL`);
    }
    const lower = name.toLowerCase();
    if (lower === "content-length") {
      // Repeated, the values are combined as `Headers.get` would: "5, 5" is not a plain number.
      contentLength = contentLength === null ? value : `${contentLength}, ${value}`;
    }
    if (ENGINE_FIELDS.has(lower)) return;
    if (lower === "date") hasDate = true;
    lines += `${name}: ${value}\r\n`;
  });
  return { lines, hasDate, declaredLength: parseDeclaredLength(contentLength) };
}

const NO_FIELDS: EncodedFields = { lines: "", hasDate: false, declaredLength: null };
let lastContentType = "";
let lastContentTypeFields = NO_FIELDS;

/**
 * The fields of a response whose only one is `Content-Type: value` (or none, for null), as
 * `encodeFields` would give them: a server sends the same few, so the last one is kept.
 */
export function contentTypeFields(value: string | null): EncodedFields {
  if (value === null) return NO_FIELDS;
  if (value !== lastContentType) {
    lastContentTypeFields = encodeEach(new Map([["content-type", value]]));
    lastContentType = value;
  }
  return lastContentTypeFields;
}

/**
 * Serializes the status line and the header block around `fields` (see `encodeFields`). Throws
 * `HttpError(500)` if a custom reason phrase could split the response.
 */
export function encodeHead(
  minor: number,
  status: number,
  statusText: string,
  fields: EncodedFields,
  framing: ResponseFraming,
  close: boolean,
  date = httpDate(),
): string {
  const reason = statusText || STATUS_TEXT[status] || "";
  if (UNSAFE_IN_FIELD.test(reason)) {
    throw new HttpError(500, "reason phrase contains CR, LF or NUL");
  }
  let head = `HTTP/1.${minor} ${status} ${reason}\r\n${fields.lines}`;
  if (!fields.hasDate) head += `date: ${date}\r\n`;
  if (framing.kind === "length") head += `content-length: ${framing.length}\r\n`;
  else if (framing.kind === "chunked") head += "transfer-encoding: chunked\r\n";
  if (close) head += "connection: close\r\n";
  else if (minor === 0) head += "connection: keep-alive\r\n";
  return head + "\r\n";
}

/**
 * The bytes of the last response head asked for, for the next response with the same parts: a
 * server answers the same way over and over, and copying a head's bytes costs less than building
 * its string and encoding it: a hello world allocates 770 bytes less.
 * The parts are compared as they are: the same `EncodedFields` object (a `FieldList`'s, or
 * `contentTypeFields`'), the same Date string (`httpDate` makes one a second). A head gets its
 * bytes the second time in a row it is asked for, so heads that never repeat cost a few
 * comparisons, not an array each.
 */
export class RepeatedHead {
  #minor = -1;
  #status = 0;
  #statusText = "";
  #fields: EncodedFields | null = null;
  #date = "";
  #framing = "";
  #length = -1;
  #close = false;
  #bytes: Uint8Array | null = null;

  /**
   * The head `encodeHead` makes of these parts (its Date at `now`), as bytes, if they are the last
   * ones asked for; else null (and they are remembered). Throws as `encodeHead` does.
   */
  bytes(
    minor: number,
    status: number,
    statusText: string,
    fields: EncodedFields,
    framing: ResponseFraming,
    close: boolean,
    now = Date.now(),
  ): Uint8Array | null {
    const date = fields.hasDate ? "" : httpDate(now);
    const length = framing.kind === "length" ? framing.length : -1;
    if (
      fields === this.#fields && date === this.#date && length === this.#length &&
      status === this.#status && statusText === this.#statusText && minor === this.#minor &&
      framing.kind === this.#framing && close === this.#close
    ) {
      this.#bytes ??= latin1Bytes(
        encodeHead(minor, status, statusText, fields, framing, close, date),
      );
      return this.#bytes;
    }
    this.#minor = minor;
    this.#status = status;
    this.#statusText = statusText;
    this.#fields = fields;
    this.#date = date;
    this.#framing = framing.kind;
    this.#length = length;
    this.#close = close;
    this.#bytes = null;
    return null;
  }
}

/** `text` one byte a character, or null if a character does not fit in one. */
function latin1Bytes(text: string): Uint8Array | null {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return null;
    bytes[i] = code;
  }
  return bytes;
}

/** A Content-Length set by a handler: used only if it is a plain number. */
function parseDeclaredLength(value: string | null): number | null {
  return value !== null && /^[0-9]{1,15}$/.test(value) ? Number(value) : null;
}

/** True for statuses that never carry a body (RFC 9110 §6.4.1). */
export function statusHasNoBody(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

const encoder = new TextEncoder();
const CHUNK_END = encoder.encode("\r\n");

/** One chunk of the chunked coding: size line, data, CRLF — as one array when it is small. */
export function encodeChunk(data: Uint8Array): Uint8Array[] {
  const sizeLine = encoder.encode(`${data.length.toString(16)}\r\n`);
  if (data.length > 16 * 1024) return [sizeLine, data, CHUNK_END];
  const out = new Uint8Array(sizeLine.length + data.length + 2);
  out.set(sizeLine);
  out.set(data, sizeLine.length);
  out.set(CHUNK_END, sizeLine.length + data.length);
  return [out];
}

/** The last chunk with an empty trailer section. */
export const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** The message may quote the request: never let a browser sniff it into HTML. */
const ERROR_FIELDS: HeaderFields = new Map([
  ["content-type", "text/plain; charset=utf-8"],
  ["x-content-type-options", "nosniff"],
]);

/** A complete small error response (plain text, closes the connection when asked). */
export function encodeError(minor: number, error: HttpError, close: boolean): Uint8Array {
  const body = encoder.encode(`${error.message}\n`);
  const head = encodeHead(
    minor,
    error.status,
    "",
    encodeFields(ERROR_FIELDS),
    { kind: "length", length: body.length },
    close,
  );
  const headBytes = encoder.encode(head);
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}
