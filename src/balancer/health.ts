/**
 * The health check a load balancer polls: `withHealth(handler, path, draining)` answers GET and
 * HEAD on `path` itself, 200 while serving and 503 once shutdown has begun (`draining()`), and
 * passes every other request on. With a drain delay (see server.ts) the balancer sees the 503 and
 * stops sending new requests while the instance still serves, so stopping it loses none.
 */
import { directOf, withDirect } from "../handler/direct.ts";
import type { ServeHandler } from "../options.ts";

export function withHealth(
  handler: ServeHandler,
  path: string,
  draining: () => boolean,
): ServeHandler {
  if (!path.startsWith("/")) throw new TypeError(`health path must start with "/", not "${path}"`);
  const checked: ServeHandler = (request, info) => {
    const url = new URL(request.url);
    if (url.pathname !== path) return handler(request, info);
    const headers = { "cache-control": "no-store", "content-type": "text/plain" };
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", {
        status: 405,
        headers: { ...headers, allow: "GET, HEAD" },
      });
    }
    return draining()
      ? new Response("draining\n", { status: 503, headers })
      : new Response("ok\n", { status: 200, headers });
  };
  // The handler's direct path stays open for every other path; a poll declines it and is
  // answered above.
  const direct = directOf(handler);
  if (direct === null) return checked;
  return withDirect(checked, (view, info) => view.pathname === path ? null : direct(view, info));
}
