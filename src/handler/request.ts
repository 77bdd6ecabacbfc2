/**
 * From a parsed head to the `Request` a handler sees: the URL (RFC 9112 §3.2–3.3), the headers and
 * the body. Shared by the stream and datagram transports, so both build requests the same way.
 * Also the lighter `RequestView` a direct handler sees (direct.ts), under the same rules.
 */
import { plainTarget, type RequestView } from "./direct.ts";
import { HttpError } from "../errors.ts";
import { lazyRequest } from "./lazy_request.ts";
import { adoptSignal, requestSignal } from "../deno/request_signal.ts";
import { fieldValues, type RequestHead } from "../http1/parse.ts";

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
  // The URL is `${scheme}://${authority}${path}`, or the target itself in absolute form. Its parts
  // find a template without being joined: the string is only built for a URL without one.
  const absolute = head.form === "absolute";
  const host = absolute ? null : hostField(head);
  // RFC 9112 §3.2.2: with an absolute-form target the Host field is ignored.
  if (host !== null && !isValidHost(host)) throw new HttpError(400, "invalid Host field");
  const origin = absolute ? "" : scheme;
  const authority = absolute ? "" : host || defaultHost;
  // "*" (OPTIONS, and SSDP's M-SEARCH and NOTIFY) has no path; the URL gets "/*".
  const path = head.form === "asterisk" ? "/*" : head.target;
  const hasBody = body !== null && head.method !== "GET" && head.method !== "HEAD";
  let template: Request | null;
  try {
    template = requestTemplates.lookup(origin, authority, path);
  } catch {
    throw refusal(head.method);
  }
  // Undefined unless the connection needs a controller to abort the request's signal.
  const controller = requestSignal();
  if (template !== null && controller === undefined) {
    // The template's `url` is the URL as the parser normalised it, kept on the template.
    const lazy = lazyRequest(head.method, template.url, fields, hasBody ? body : null);
    if (lazy !== null) return lazy;
  }
  let request: Request;
  try {
    // `signal: null`: the copy is not tied to the template's signal (a Request copied from another
    // follows its signal); it gets its own when the handler asks for it, as a new Request does.
    // The URL otherwise goes in as a string: Request parses it once (a URL object would be
    // parsed, turned back into a string and parsed again).
    request = template !== null
      ? new Request(template, {
        signal: controller?.signal ?? null,
        method: head.method,
        body: hasBody ? body : null,
      })
      : head.method === "GET" && controller === undefined
      // GET is the default: without an init dictionary to convert, a Request costs 0.5 µs less.
      ? new Request(joinUrl(origin, authority, path))
      : new Request(joinUrl(origin, authority, path), {
        method: head.method,
        body: hasBody ? body : null,
        signal: controller?.signal,
      });
  } catch {
    throw refusal(head.method);
  }
  adoptSignal(request, controller);
  // Fetch also upper-cases get/post/put/delete/head/options, but methods are case-sensitive
  // (RFC 9110 §9.1): "get" is not GET, and a handler must not be told it is.
  if (request.method !== head.method) throw notImplemented(head.method);
  // Appended to the request's own Headers: a separate Headers passed as init would be built and
  // then copied field by field.
  const headers = request.headers;
  for (let i = 0; i < fields.length; i += 2) headers.append(fields[i], fields[i + 1]);
  return request;
}

/**
 * The view of a GET or HEAD whose target the URL parser would keep as it is, for a direct handler;
 * null for any other request, which takes the `Request` path. Throws `HttpError` 400 when the
 * Host would make `buildRequest` refuse the request, so both paths refuse the same requests.
 */
export function requestView(
  head: RequestHead,
  scheme: string,
  receivedIn?: number,
): RequestView | null {
  if ((head.method !== "GET" && head.method !== "HEAD") || head.form !== "origin") return null;
  const target = plainTarget(head.target);
  if (target === null) return null;
  const host = hostField(head);
  // An empty Host is replaced by the listener's address, as in `buildRequest`.
  if (host) checkHost(host, scheme);
  return {
    method: head.method,
    pathname: target.pathname,
    search: target.search,
    headers: new HeadFields(head),
    receivedIn,
  };
}

/** `Request.headers`' `get` over the parsed field lines. */
class HeadFields {
  #head: RequestHead;

  constructor(head: RequestHead) {
    this.#head = head;
  }

  get(name: string): string | null {
    const values = fieldValues(this.#head, name.toLowerCase());
    if (values.length === 0) return null;
    return values.length === 1 ? values[0] : values.join(", ");
  }
}

/**
 * The last Host found to have only the characters a host has. A server sees the same Host request
 * after request, and `===` on it costs less than the expression (0.9% of a pipelined hello world).
 */
let lastValidHost = "";

function isValidHost(host: string): boolean {
  if (host === lastValidHost) return true;
  if (!VALID_HOST.test(host)) return false;
  lastValidHost = host;
  return true;
}

/** The last Host field's value (a request with two is refused by the parser), or null. */
function hostField(head: RequestHead): string | null {
  const fields = head.fields;
  let host: string | null = null;
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === "host") host = fields[i + 1];
  return host;
}

/**
 * Hosts already found to make a URL (http and https parse hosts alike); a server sees few distinct
 * ones, so this stays small.
 */
const goodHosts = new Set<string>();
const MAX_GOOD_HOSTS = 64;

/**
 * Refuses a Host that `buildRequest` would refuse: one with characters no host has, or that the
 * URL parser rejects (a "%", a port over 65535, a malformed IPv4 or IPv6 address…).
 */
function checkHost(host: string, scheme: string): void {
  if (goodHosts.has(host)) return;
  if (!isValidHost(host)) throw new HttpError(400, "invalid Host field");
  if (!URL.canParse(`${scheme}://${host}/`)) throw badUrl();
  if (goodHosts.size >= MAX_GOOD_HOSTS) goodHosts.clear();
  goodHosts.add(host);
}

/**
 * Requests whose parsed URL later requests to the same URL take, by URL.
 *
 * `new Request(url)` parses the URL and, in Deno, records it in an object with getters and
 * setters: 2.5 µs, and V8 keeps such objects through young-generation collections, so each
 * request's `Request` ends up in the old generation and the heap grows to make room (under
 * hello-100, 600 KB promoted at every scavenge). A request to a URL with a template is made lazily
 * with the template's `url` (lazy_request.ts); where it cannot be, it is a copy of the template,
 * `new Request(template, init)`, which takes the parsed URL from it and records it in a plain
 * object: 0.7 µs, and nothing survives. Templates are never handed to a handler: their headers
 * stay empty and their body null, so a copy starts as `new Request(url)` would.
 *
 * A URL gets a template the second time in a row it lands in its slot, so that a stream of
 * distinct URLs costs a few character reads, not a template each. The slots are an array indexed
 * by a hash computed here, not a `Map`: in Deno 2.9 a `Map` lookup with a string never seen before
 * costs 0.3 µs and leaves ~40 bytes in the old generation (V8 records every distinct key). Under
 * hello-100, one URL: +8–10% requests a second; URLs that never repeat in a row: 1–7% fewer.
 */
export class RequestTemplates {
  /** The URL last seen in each slot, in its three parts, and its template once seen twice. */
  #origins: (string | null)[];
  #authorities: (string | null)[];
  #paths: (string | null)[];
  #templates: (Request | null)[];

  /** `slots`, a power of two, bounds the templates kept. */
  constructor(slots = 256) {
    if (slots < 1 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`slots must be a power of two, not ${slots}`);
    }
    this.#origins = new Array(slots).fill(null);
    this.#authorities = new Array(slots).fill(null);
    this.#paths = new Array(slots).fill(null);
    this.#templates = new Array(slots).fill(null);
  }

  /**
   * The template for the URL `joinUrl(origin, authority, path)`, or null when that URL is new to
   * its slot (or too long to keep).
   */
  lookup(origin: string, authority: string, path: string): Request | null {
    if (authority.length + path.length > MAX_TEMPLATE_URL_LENGTH) return null;
    const slot = slotHash(authority.length, path) & (this.#paths.length - 1);
    if (
      this.#paths[slot] !== path || this.#authorities[slot] !== authority ||
      this.#origins[slot] !== origin
    ) {
      this.#origins[slot] = origin;
      this.#authorities[slot] = authority;
      this.#paths[slot] = path;
      this.#templates[slot] = null;
      return null;
    }
    // Throws for a URL a Request refuses, as `new Request(url)` would have (and will again).
    return this.#templates[slot] ??= new Request(joinUrl(origin, authority, path));
  }

  get size(): number {
    return this.#templates.filter((template) => template !== null).length;
  }
}

/** Longer URLs are rarely repeated, and a template keeps its URL's strings alive. */
const MAX_TEMPLATE_URL_LENGTH = 1024;

/** FNV-1a over the authority's length and the path's last 32 characters: where URLs differ. */
function slotHash(authorityLength: number, path: string): number {
  let hash = 0x811c9dc5 ^ authorityLength;
  for (let i = Math.max(0, path.length - 32); i < path.length; i++) {
    hash = Math.imul(hash ^ path.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

/** The URL from its parts: an absolute-form target has no origin or authority of its own. */
function joinUrl(origin: string, authority: string, path: string): string {
  return origin === "" ? path : `${origin}://${authority}${path}`;
}

const requestTemplates = new RequestTemplates();

/** Methods the Fetch standard refuses in a Request (a byte-case-insensitive match). */
const FORBIDDEN_METHOD = /^(?:CONNECT|TRACE|TRACK)$/i;

/**
 * Why a Request could not be made: the Fetch standard forbids a few methods (CONNECT, TRACE,
 * TRACK) in a Request; any other failure is the URL's.
 */
function refusal(method: string): HttpError {
  return FORBIDDEN_METHOD.test(method) ? notImplemented(method) : badUrl();
}

function badUrl(): HttpError {
  return new HttpError(400, "request-target and Host do not form a valid URL");
}

function notImplemented(method: string): HttpError {
  return new HttpError(501, `method ${method} is not supported`);
}
