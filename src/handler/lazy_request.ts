/**
 * A `Request` whose header list is made from the parsed head only when something reads it, as the
 * requests `Deno.serve` hands its handlers are. Building one relies on Deno's private Request
 * slots (src/deno/request_slots.ts); this decides which requests may be built that way.
 */
import { buildLazyRequest } from "../deno/request_slots.ts";
import { ReadableStreamClass } from "./web_classes.ts";

/**
 * Methods that `new Request` keeps exactly as given. Any other — an extension method, or one
 * that the Fetch standard upper-cases or forbids — takes the copying path, which checks it.
 */
const KEPT_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]);

/**
 * A Request for `method` and `url` (already normalised: a template's `url`) with the parsed
 * `fields` and `body`, built lazily; null when it cannot be: the method is not one a Request
 * keeps as it is, the body is not a stream, or Deno's internals are not used (portable mode,
 * another Deno version, or a failed startup check). The caller then copies a template.
 */
export function lazyRequest(
  method: string,
  url: string,
  fields: readonly string[],
  body: ReadableStream<Uint8Array> | Uint8Array | null,
): Request | null {
  if (!KEPT_METHODS.has(method)) return null;
  if (body !== null && !(body instanceof ReadableStreamClass)) return null;
  return buildLazyRequest(method, url, fields, body);
}
