/**
 * From a parsed head to the `Request` a handler sees: the URL (RFC 9112 §3.2–3.3), the headers and
 * the body. Shared by the stream and datagram transports, so both build requests the same way.
 */
import { HttpError } from "./errors.ts";
import type { RequestHead } from "./parse.ts";

/** Host = uri-host [ ":" port ] (RFC 9110 §7.2): reg-name, IPv4 or [IPv6] characters only. */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

/**
 * Builds the request. `defaultHost` is the authority used when the request names none (HTTP/1.0
 * without Host): the listener's address. Throws `HttpError` 400 for a Host or target that does
 * not make a URL, 501 for a method a `Request` cannot carry.
 */
export function buildRequest(
  head: RequestHead,
  body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null,
  scheme: string,
  defaultHost: string,
): Request {
  const fields = head.fields;
  let host: string | null = null;
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === "host") host = fields[i + 1];
  const url = requestUrl(head, host, scheme, defaultHost);
  const hasBody = body !== null && head.method !== "GET" && head.method !== "HEAD";
  let request: Request;
  try {
    // The URL goes in as a string: Request parses it once (a URL object would be parsed, turned
    // back into a string and parsed again).
    request = new Request(url, { method: head.method, body: hasBody ? body : null });
  } catch {
    // The Fetch standard forbids a few methods (CONNECT, TRACE, TRACK) in a Request; any other
    // failure is the URL's.
    if (FORBIDDEN_METHOD.test(head.method)) throw notImplemented(head.method);
    throw badUrl();
  }
  // Fetch also upper-cases get/post/put/delete/head/options, but methods are case-sensitive
  // (RFC 9110 §9.1): "get" is not GET, and a handler must not be told it is.
  if (request.method !== head.method) throw notImplemented(head.method);
  // Appended to the request's own Headers: a separate Headers passed as init would be built and
  // then copied field by field.
  const headers = request.headers;
  for (let i = 0; i < fields.length; i += 2) headers.append(fields[i], fields[i + 1]);
  return request;
}

/** Methods the Fetch standard refuses in a Request (a byte-case-insensitive match). */
const FORBIDDEN_METHOD = /^(?:CONNECT|TRACE|TRACK)$/i;

/** The request's URL: an absolute-form target as is, else scheme + Host + origin-form target. */
function requestUrl(
  head: RequestHead,
  host: string | null,
  scheme: string,
  defaultHost: string,
): string {
  // RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored.
  if (head.form === "absolute") return head.target;
  if (host !== null && !VALID_HOST.test(host)) throw new HttpError(400, "invalid Host field");
  // "*" (OPTIONS, and SSDP's M-SEARCH and NOTIFY) has no path; the URL gets "/*".
  const path = head.form === "asterisk" ? "/*" : head.target;
  return `${scheme}://${host || defaultHost}${path}`;
}

function badUrl(): HttpError {
  return new HttpError(400, "request-target and Host do not form a valid URL");
}

function notImplemented(method: string): HttpError {
  return new HttpError(501, `method ${method} is not supported`);
}
