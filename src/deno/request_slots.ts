/**
 * Requests built on Deno's private Request slots: an empty, branded `Request` whose record (Deno's
 * "inner request") makes the header list from the parsed head only when something reads it, as
 * the requests `Deno.serve` hands its handlers are (the policy of when to build one is
 * `lazyRequest` in src/lazy_request.ts).
 *
 * Any public way to make a `Request` does the work up front: a copy of a template
 * (`new Request(template, init)`, see request.ts) converts its init dictionary, clones the
 * template's record and its header list, makes a `Headers` and appends each field to it. That is
 * 1.1–1.3 µs and about 1.8 KB a request: a third of a pipelined hello world, for fields most
 * handlers never read. Deno.serve instead makes an empty `Request` and gives it a record that
 * fetches the URL and the header list from the server when first asked. This does the same from
 * outside Deno:
 *
 * - `new Request(brand)`, with Deno's WebIDL brand symbol, is the constructor's own way to make an
 *   empty, branded Request (Deno uses it for `clone()` and for Deno.serve's requests). The brand is
 *   an own property of every Request, whose value is the symbol itself.
 * - Under its `request` symbol goes a `ParsedRecord`, which has the fields Deno reads of a record
 *   and builds the header list from the parsed head's fields on first use; the `headers guard`
 *   symbol says what kind of `Headers` to make of it then ("request", as for `new Request`).
 * - A body stream goes in Deno's own `InnerBody`, made as `new Request(url, { body: stream })`
 *   makes it.
 *
 * The result is a real `Request`: `instanceof`, `clone()`, `new Request(request, init)`,
 * `fetch(request)`, the body methods and `Deno.inspect` all go through Deno's code. The slots are
 * looked for only where the fence allows internals (gate.ts), and trusted only once Requests built
 * with them behave, at startup, as `new Request` ones (`checkInternals`); otherwise
 * `buildLazyRequest` gives null and requests are copied from their templates.
 */
import { INTERNALS_ALLOWED } from "./gate.ts";
import { RequestClass } from "../handler/web_classes.ts";

/** Deno's pieces of a Request that `lazyRequest` relies on. */
interface Internals {
  /** WebIDL's brand: `new Request(brand)` makes an empty, branded Request. */
  brand: symbol;
  /** Where a Request keeps its record. */
  record: symbol;
  /** The guard its `Headers` gets when first asked for. */
  guard: symbol;
  /** Deno's body record: `new InnerBody(stream)`. */
  InnerBody: new (stream: ReadableStream<Uint8Array>) => object;
}

/**
 * The record Deno reads behind a Request: the fields of its `newInnerRequest`'s result (Deno 2.9)
 * under the same names, read by the Request's getters, `clone()`, `new Request(request)` and
 * `fetch`. Only the header list differs: it is made from the parsed head's field lines when first
 * read, not before.
 */
class ParsedRecord {
  methodInner: string;
  headerListInner: [string, string][] | null = null;
  body: object | null;
  redirectMode = "follow";
  redirectCount = 0;
  clientRid = null;
  blobUrlEntry = null;
  /** The URL, until something asks for the lists Deno keeps it in (a redirect adds to them). */
  #url: string;
  #urlList: (() => string)[] | null = null;
  #urlListProcessed: string[] | null = null;
  /** name, value, name, value…: lower-case names, as parsed. */
  #fields: readonly string[];

  constructor(method: string, url: string, fields: readonly string[], body: object | null) {
    this.methodInner = method;
    this.body = body;
    this.#url = url;
    this.#fields = fields;
  }

  get method(): string {
    return this.methodInner;
  }

  set method(value: string) {
    this.methodInner = value;
  }

  get headerList(): [string, string][] {
    if (this.headerListInner === null) {
      const fields = this.#fields;
      const list: [string, string][] = [];
      for (let i = 0; i < fields.length; i += 2) list.push([fields[i], fields[i + 1]]);
      this.headerListInner = list;
    }
    return this.headerListInner;
  }

  set headerList(value: [string, string][]) {
    this.headerListInner = value;
  }

  get urlList(): (() => string)[] {
    const url = this.#url;
    return this.#urlList ??= [() => url];
  }

  set urlList(value: (() => string)[]) {
    this.#urlList = value;
  }

  get urlListProcessed(): string[] {
    return this.#urlListProcessed ??= [this.#url];
  }

  set urlListProcessed(value: string[]) {
    this.#urlListProcessed = value;
  }

  url(): string {
    if (this.#urlList === null && this.#urlListProcessed === null) return this.#url;
    return this.urlListProcessed[0] ??= this.urlList[0]();
  }

  currentUrl(): string {
    if (this.#urlList === null && this.#urlListProcessed === null) return this.#url;
    const last = this.urlList.length - 1;
    return this.urlListProcessed[last] ??= this.urlList[last]();
  }
}

/**
 * A Request for `method` and `url` (already normalised: a template's `url`) with the parsed
 * `fields` and `body`, built lazily on Deno's slots; null where those are not trusted.
 */
export function buildLazyRequest(
  method: string,
  url: string,
  fields: readonly string[],
  body: ReadableStream<Uint8Array> | null,
): Request | null {
  return internals === null ? null : build(internals, method, url, fields, body);
}

function build(
  { brand, record, guard, InnerBody }: Internals,
  method: string,
  url: string,
  fields: readonly string[],
  body: ReadableStream<Uint8Array> | null,
): Request {
  const request = new RequestClass(brand as unknown as string);
  const slots = request as unknown as Record<symbol, unknown>;
  slots[record] = new ParsedRecord(method, url, fields, body === null ? null : new InnerBody(body));
  slots[guard] = "request";
  return request;
}

/**
 * Deno's pieces, if a Request built with them behaves as one built by `new Request` with the same
 * parts: else null, and `lazyRequest` is never used.
 */
function checkInternals(): Internals | null {
  try {
    const stream = new ReadableStream<Uint8Array>();
    const reference = new Request("http://check.invalid/", { method: "POST", body: stream });
    const slots = reference as unknown as Record<symbol, unknown>;
    const symbols = Object.getOwnPropertySymbols(reference);
    const named = (description: string) => symbols.find((s) => s.description === description);
    const brand = symbols.find((symbol) => slots[symbol] === symbol);
    const record = named("request");
    const guard = named("headers guard");
    if (brand === undefined || record === undefined || guard === undefined) return null;
    // The body record as `new Request` makes it for a stream: the stream, and nothing else known.
    const referenceBody = (slots[record] as { body?: Record<string, unknown> } | undefined)?.body;
    if (
      referenceBody?.streamOrStatic !== stream || referenceBody.source !== null ||
      referenceBody.length !== null
    ) {
      return null;
    }
    const found: Internals = {
      brand,
      record,
      guard,
      InnerBody: referenceBody.constructor as Internals["InnerBody"],
    };
    return behaves(found) ? found : null;
  } catch {
    return null;
  }
}

/** Whether Requests built with `found` show the parts they were built with, everywhere. */
function behaves(found: Internals): boolean {
  const url = "http://check.invalid/p?q=1";
  const fields = ["host", "check.invalid", "x-check", "1", "x-check", "2"];
  const headersOf = (request: Request) => JSON.stringify([...request.headers]);
  const expected = JSON.stringify([["host", "check.invalid"], ["x-check", "1, 2"]]);
  const stream = new ReadableStream<Uint8Array>();
  const withBody = build(found, "PUT", url, fields, stream);
  const bodiless = build(found, "GET", url, fields, null);
  const copy = new Request(bodiless, { headers: { "x-copy": "1" } });
  const clone = bodiless.clone();
  return withBody instanceof Request && withBody.method === "PUT" && withBody.url === url &&
    withBody.body === stream && !withBody.bodyUsed && headersOf(withBody) === expected &&
    bodiless.body === null && bodiless.redirect === "follow" && !bodiless.signal.aborted &&
    clone.url === url && headersOf(clone) === expected && clone.method === "GET" &&
    copy.url === url && headersOf(copy) === JSON.stringify([["x-copy", "1"]]);
}

/** Deno's pieces, once checked; null in portable mode, on other Deno versions, or when the check fails. */
const internals = INTERNALS_ALLOWED ? checkInternals() : null;
