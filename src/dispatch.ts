/**
 * Calling the handler: the request timeout, and what becomes of a handler that throws or returns
 * something that is not a `Response` (onError, then a plain 500). Shared by both transports.
 */
import { HttpError } from "./errors.ts";

/**
 * Runs `call` (the handler) under `requestTimeout` ms (0: none). An `HttpError` — the body the
 * handler read was malformed, the handler threw one on purpose, the time ran out — is thrown on
 * for the caller to answer with its status; any other failure goes to `onError`, and if that
 * fails too, becomes a 500. `accepts` tells an answer from a mistake: a `Response`, and also
 * null (no reply) for datagrams, or an `Answer` or null (declined) for a direct handler.
 */
export async function dispatch<A>(
  call: () => A | Promise<A>,
  requestTimeout: number,
  onError: (error: unknown) => A | Promise<A>,
  accepts: (value: unknown) => value is A,
): Promise<A> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // Called directly (a throw is caught below): deferring it to a microtask costs a turn per
    // request and changes nothing.
    const pending = call();
    const answer = requestTimeout > 0
      ? await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new HttpError(503, `no response within ${requestTimeout} ms`)),
            requestTimeout,
          );
        }),
      ])
      : await pending;
    if (accepts(answer)) return answer;
    throw new TypeError("the handler returned something that is not a Response");
  } catch (error) {
    if (error instanceof HttpError) throw error;
    let answer: unknown;
    try {
      answer = await onError(error);
    } catch {
      // onError failed too: fall through to the plain 500
    }
    if (accepts(answer)) return answer;
    throw new HttpError(500, "Internal Server Error");
  } finally {
    clearTimeout(timer);
  }
}

export function isResponse(value: unknown): value is Response {
  return value instanceof Response;
}

/** Bytes, not a string, so no content-type is added: the same answer Deno.serve gives. */
const INTERNAL_ERROR = new TextEncoder().encode("Internal Server Error");

/** The default `onError`: log the failure (the client never sees it), answer a bare 500. */
export function defaultOnError(error: unknown): Response {
  console.error("sockserve: handler failed:", error);
  return new Response(INTERNAL_ERROR, { status: 500 });
}
