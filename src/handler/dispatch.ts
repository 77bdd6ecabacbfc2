/**
 * Calling the handler: the request timeout, and what becomes of a handler that throws or returns
 * something that is not a `Response` (onError, then a plain 500). Shared by both transports.
 */
import { bodyUnused } from "../deno/response_slots.ts";
import { HttpError } from "../errors.ts";
import { runAfter } from "../deno/timer.ts";
import { ResponseClass } from "./web_classes.ts";

/**
 * Runs `handler(request, info)` under `requestTimeout` ms (0: none). An `HttpError` — the body the
 * handler read was malformed, the handler threw one on purpose, the time ran out — is thrown on
 * for the caller to answer with its status; any other failure goes to `onError`, and if that
 * fails too, becomes a 500. `accepts` tells an answer from a mistake: a `Response`, and also
 * null (no reply) for datagrams, or an `Answer` or null (declined) for a direct handler.
 *
 * A handler that answers at once gets its answer back at once, not in a promise: most handlers
 * do, and a promise per request is an allocation and a turn of the event loop (a sync throw
 * from here is the caller's to catch, like a rejection). The handler comes with its arguments,
 * not in a closure, for the same reason.
 */
export function dispatch<R, I, A>(
  handler: (request: R, info: I) => A | Promise<A>,
  request: R,
  info: I,
  requestTimeout: number,
  onError: (error: unknown) => A | Promise<A>,
  accepts: (value: unknown) => value is A,
): A | Promise<A> {
  let answer: A | Promise<A>;
  try {
    answer = handler(request, info);
  } catch (error) {
    return recover(error, onError, accepts);
  }
  if (!(answer instanceof Promise)) return settle(answer, onError, accepts);
  const pending = requestTimeout > 0 ? withTimeout(answer, requestTimeout) : answer;
  return pending.then(
    (value) => settle(value, onError, accepts),
    (error) => recover(error, onError, accepts),
  );
}

function settle<A>(
  value: unknown,
  onError: (error: unknown) => A | Promise<A>,
  accepts: (value: unknown) => value is A,
): A | Promise<A> {
  if (accepts(value)) return value;
  const error = new TypeError(
    "the handler returned something that is not a Response, or a Response already sent or read",
  );
  return recover(error, onError, accepts);
}

async function recover<A>(
  error: unknown,
  onError: (error: unknown) => A | Promise<A>,
  accepts: (value: unknown) => value is A,
): Promise<A> {
  if (error instanceof HttpError) throw error;
  let answer: unknown;
  try {
    answer = await onError(error);
  } catch {
    // onError failed too: fall through to the plain 500
  }
  if (accepts(answer)) return answer;
  throw new HttpError(500, "Internal Server Error");
}

/** `pending`, or a 503 `HttpError` once `ms` have passed without it settling. */
function withTimeout<A>(pending: Promise<A>, ms: number): Promise<A> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = runAfter(ms, () => reject(new HttpError(503, `no response within ${ms} ms`)));
  });
  return Promise.race([pending, timeout]).finally(() => cancel!());
}

/**
 * A `Response` that can still be sent. One whose body was used (read by the handler, or sent
 * already: the same Response returned twice) cannot, and is a handler error, a 500, as under
 * Deno.serve.
 */
export function isResponse(value: unknown): value is Response {
  return value instanceof ResponseClass && bodyUnused(value);
}

/** Bytes, not a string, so no content-type is added: the same answer Deno.serve gives. */
const INTERNAL_ERROR = new TextEncoder().encode("Internal Server Error");

/** The default `onError`: log the failure (the client never sees it), answer a bare 500. */
export function defaultOnError(error: unknown): Response {
  console.error("sockserve: handler failed:", error);
  return new Response(INTERNAL_ERROR, { status: 500 });
}
