/**
 * The health check a load balancer polls: `healthLayer(path, draining)` answers GET and
 * HEAD on `path` itself, 200 while serving and 503 once shutdown has begun (`draining()`), and
 * passes every other request on. With a drain delay (see server.ts) the balancer sees the 503 and
 * stops sending new requests while the instance still serves, so stopping it loses none.
 */
import type { Layer } from "../handler/layers.ts";

/** Default `drainDelay` with a health check: a few polls of a balancer checking every second. */
export const DEFAULT_HEALTH_DRAIN_DELAY = 5_000;

/** Milliseconds between "health says 503" and "stop accepting" (see `ServeOptions.drainDelay`). */
export function drainDelay(options: { health?: string; drainDelay?: number }): number {
  return options.drainDelay ?? (options.health !== undefined ? DEFAULT_HEALTH_DRAIN_DELAY : 0);
}

/** Answers GET and HEAD on `path` (200, or 503 once `draining()`); passes every other request on. */
export function healthLayer(path: string, draining: () => boolean): Layer {
  if (!path.startsWith("/")) throw new TypeError(`health path must start with "/", not "${path}"`);
  const headers = { "cache-control": "no-store", "content-type": "text/plain" };
  const answer = (method: string): Response => {
    if (method !== "GET" && method !== "HEAD") {
      return new Response("method not allowed\n", {
        status: 405,
        headers: { ...headers, allow: "GET, HEAD" },
      });
    }
    return draining()
      ? new Response("draining\n", { status: 503, headers })
      : new Response("ok\n", { status: 200, headers });
  };
  return {
    handler: (next) => (request, info) =>
      new URL(request.url).pathname === path ? answer(request.method) : next(request, info),
    // A poll declines the direct path and is answered by the Request path above.
    direct: (next) => (view, info) => view.pathname === path ? null : next(view, info),
  };
}
