/**
 * Response bodies and parts read from Deno's private Response slots, without the public getters'
 * costs: the string or bytes a `Response` was made with (`takeStaticBody`), the parts Deno.serve
 * answers on its own fast path (`takeFastResponse`), and `bodyUsed` without building the body's
 * record (`bodyUnused`).
 *
 * Each is looked for only where the fence allows internals (gate.ts), and trusted only once its
 * startup check passed on Responses whose parts are known; otherwise every body goes through its
 * stream and every Response through its getters.
 */
import { INTERNALS_ALLOWED } from "./gate.ts";
import { ReadableStreamClass, RESPONSE_PROTOTYPE } from "../handler/web_classes.ts";

/**
 * The body a `Response` was made with, taken without a stream, when it was a string or bytes;
 * null for any other (a stream, a Blob, FormData, no body) and when that cannot be told.
 *
 * Deno keeps such a body as it was given until something reads it, and `Deno.serve` sends it
 * from there (its "fast static response"); nothing public gives it back without building a
 * `ReadableStream` around it first. Reading it through that stream was the largest cost of a
 * small answer after the `Request` (2.6 µs of a hello world, and 4.4 KB allocated), so this
 * looks where Deno keeps it: the `InnerBody` of the record under the Response's `response`
 * symbol, whose `streamOrStatic` is `{ body, consumed }` for such a body and a stream otherwise.
 * The record is trusted only once checked at startup on Responses whose bodies are known
 * (`checkInternals`): in a Deno whose internals differ, every body goes through its stream.
 *
 * Taking the body consumes it, as reading its stream does: `bodyUsed` is true afterwards, and the
 * same Response cannot be sent twice (Deno.serve refuses that too).
 */
export function takeStaticBody(response: Response): Uint8Array | string | null {
  return responseRecord === null ? null : takeFrom(response, responseRecord);
}

/** `takeStaticBody` with Deno's record under `record`. */
function takeFrom(response: Response, record: symbol): Uint8Array | string | null {
  // `bodyUsed` also makes Deno build the record of a Response made from a lone string, which it
  // leaves empty until something looks.
  if (response.bodyUsed) return null;
  return staticBodyOf(response, record)?.consume() ?? null;
}

/** Deno's body record, as far as `takeStaticBody` relies on it. */
interface InnerBody {
  streamOrStatic: ReadableStream | { body: unknown };
  consume(): Uint8Array | string;
}

/**
 * The inner body of `response` if it holds a string or bytes, else null. (Whether it was consumed
 * is `bodyUsed`, which the callers ask first.)
 */
function staticBodyOf(response: Response, record: symbol): InnerBody | null {
  const inner = (response as unknown as Record<symbol, { body?: InnerBody | null } | undefined>)[
    record
  ]?.body;
  const held = inner?.streamOrStatic;
  if (typeof held !== "object" || held === null || held instanceof ReadableStreamClass) return null;
  if (typeof inner!.consume !== "function") return null;
  return typeof held.body === "string" || held.body instanceof Uint8Array ? inner! : null;
}

/**
 * The symbol under which Deno keeps a Response's record, if `takeStaticBody` gives back exactly
 * the bodies of Responses made for the purpose (both ways Deno makes one from a string, and
 * bytes), gives nothing for a stream, and leaves each Response used: else null, and the engine
 * never looks.
 */
function checkInternals(): symbol | null {
  const record = Object.getOwnPropertySymbols(new Response(null))
    .find((symbol) => symbol.description === "response");
  if (record === undefined) return null;
  const take = (response: Response) => {
    const body = takeFrom(response, record);
    return response.bodyUsed === (body !== null) ? body : undefined;
  };
  const bytes = take(new Response(new Uint8Array([0x73, 0x6f])));
  const ok = take(new Response("so")) === "so" &&
    take(new Response("so", { headers: { "x-check": "1" } })) === "so" &&
    bytes instanceof Uint8Array && bytes.length === 2 && bytes[0] === 0x73 && bytes[1] === 0x6f &&
    take(new Response(new ReadableStream())) === null && take(new Response(null)) === null;
  return ok ? record : null;
}

const responseRecord = INTERNALS_ALLOWED ? checkInternals() : null;

/** A 200 `Response` with only a body and at most a Content-Type, as `takeFastResponse` gives it. */
export interface FastResponse {
  contentType: string | null;
  body: string | Uint8Array;
}

/**
 * The parts of a `Response` that Deno.serve would answer on its fast path, taken (the Response is
 * used afterwards); null for any other Response, and when that cannot be told.
 *
 * Deno 2.9 marks a Response made with status 200, a string or bytes, and no header field but
 * Content-Type (`new Response(text)`, `new Response(text, { headers: { "content-type": … } })`,
 * `Response.json(data)`) with "serve fast" fields beside its record: the status, the body, and
 * which Content-Type goes with it. Anything that could change those parts afterwards clears them:
 * reading `headers` (to change them) does. The fields do not show a reason phrase, so a Response
 * with one of its own is not taken, nor a subclass (whose getters may say something else).
 * Deno.serve answers such a Response from those fields without building its `Headers`; so does
 * sockserve, where reading the Headers and encoding them field by field cost 0.3 µs and 900 bytes
 * of a hello world.
 * Trusted only once checked at startup, as `takeStaticBody`'s record is (`checkFastFields`).
 */
export function takeFastResponse(response: Response): FastResponse | null {
  return fastFields === null ? null : takeFastFrom(response, fastFields);
}

/** Where Deno keeps a Response's "serve fast" parts, its record, and a string body set aside. */
interface FastFields {
  status: symbol;
  body: symbol;
  headerKind: symbol;
  contentType: symbol;
  consumed: symbol;
  record: symbol;
  lazyBody: symbol;
}

/** Deno's kinds of "serve fast" header: none, its default text type, the one in `contentType`. */
const FAST_HEADER_NONE = 0;
const FAST_HEADER_DEFAULT_TEXT = 1;
const FAST_HEADER_CONTENT_TYPE = 2;
const DEFAULT_TEXT_TYPE = "text/plain;charset=UTF-8";

function takeFastFrom(response: Response, fields: FastFields): FastResponse | null {
  // A subclass may answer `status`, `headers` or `statusText` its own way, which the fields
  // would not show: it is sent through those getters.
  if (Object.getPrototypeOf(response) !== RESPONSE_PROTOTYPE) return null;
  const slots = response as unknown as Record<symbol, unknown>;
  if (slots[fields.status] !== 200 || !(setAside(response, fields) || !response.bodyUsed)) {
    return null;
  }
  // Deno's fast path has no reason phrase: one of the handler's own goes the slower way. (Read
  // from the record: the getter costs a brand check, and this is every small answer.)
  if ((slots[fields.record] as { statusMessage?: unknown } | undefined)?.statusMessage !== "") {
    return null;
  }
  const body = slots[fields.body];
  if (typeof body !== "string" && !(body instanceof Uint8Array)) return null;
  const kind = slots[fields.headerKind];
  const contentType = kind === FAST_HEADER_NONE
    ? null
    : kind === FAST_HEADER_DEFAULT_TEXT
    ? DEFAULT_TEXT_TYPE
    : kind === FAST_HEADER_CONTENT_TYPE
    ? slots[fields.contentType]
    : undefined;
  if (contentType !== null && typeof contentType !== "string") return null;
  // What Deno.serve sets when it takes them: `bodyUsed` is true from then on.
  slots[fields.consumed] = true;
  return { contentType, body };
}

/**
 * `!response.bodyUsed`, without what asking costs. Deno keeps the string of `new Response(text)`
 * (and of `Response.json`) aside until something looks at the body, and `bodyUsed` is such a
 * look: it builds the body's record (130 bytes, and a brand check, every hello world). A string
 * still set aside, not yet taken by `takeFastResponse`, was never read. Only for a plain
 * Response: a subclass may say otherwise through its own getter.
 */
export function bodyUnused(response: Response): boolean {
  return fastFields === null ? !response.bodyUsed : unusedWith(response, fastFields);
}

function unusedWith(response: Response, fields: FastFields): boolean {
  if (Object.getPrototypeOf(response) === RESPONSE_PROTOTYPE && setAside(response, fields)) {
    return true;
  }
  return !response.bodyUsed;
}

/** Whether Deno still keeps `response`'s string aside, not taken: its body was never read. */
function setAside(response: Response, fields: FastFields): boolean {
  const slots = response as unknown as Record<symbol, unknown>;
  return typeof slots[fields.lazyBody] === "string" && slots[fields.consumed] === false;
}

/**
 * The symbols of the "serve fast" fields, if taking them gives exactly the parts of Responses made
 * for the purpose, nothing for Responses with anything more (or whose headers were read), and
 * leaves each Response used: else null, and the engine never looks.
 */
function checkFastFields(): FastFields | null {
  const symbols = Object.getOwnPropertySymbols(new Response("so"));
  const named = (name: string) => symbols.find((symbol) => symbol.description === name);
  const status = named("serve fast status");
  const body = named("serve fast body");
  const headerKind = named("serve fast header kind");
  const contentType = named("serve fast content type");
  const consumed = named("serve fast consumed");
  const record = named("response");
  const lazyBody = named("lazy static body");
  if (!status || !body || !headerKind || !contentType || !consumed || !record || !lazyBody) {
    return null;
  }
  const fields = { status, body, headerKind, contentType, consumed, record, lazyBody };
  const take = (response: Response) => {
    const taken = takeFastFrom(response, fields);
    return response.bodyUsed === (taken !== null) ? JSON.stringify(taken) : "not used once taken";
  };
  const touched = new Response("so");
  touched.headers.set("x-check", "1");
  const cases: [Response, FastResponse | null][] = [
    [new Response("so"), { contentType: DEFAULT_TEXT_TYPE, body: "so" }],
    [new Response("so", { headers: { "content-type": "application/json" } }), {
      contentType: "application/json",
      body: "so",
    }],
    [new Response(new Uint8Array([0x73])), { contentType: null, body: new Uint8Array([0x73]) }],
    [Response.json(1), { contentType: "application/json", body: "1" }],
    [new Response("so", { status: 201 }), null],
    [new Response("so", { statusText: "Fine" }), null],
    [new Response("so", { headers: { "content-type": "text/plain", "x-check": "1" } }), null],
    [new Response(new ReadableStream()), null],
    [new Response(null), null],
    [touched, null],
  ];
  // `unusedWith` must say what `bodyUsed` says (asked second: it builds what the first avoids).
  const agrees = (response: Response) => unusedWith(response, fields) === !response.bodyUsed;
  const read = new Response("so");
  read.text().catch(() => {});
  const taken = new Response("so");
  takeFastFrom(taken, fields);
  const unused = [
    new Response("so"),
    Response.json(1),
    new Response(new Uint8Array(1)),
    read,
    taken,
  ];
  try {
    return cases.every(([response, parts]) => take(response) === JSON.stringify(parts)) &&
        unused.every(agrees)
      ? fields
      : null;
  } catch {
    return null;
  }
}

const fastFields = INTERNALS_ALLOWED ? checkFastFields() : null;
