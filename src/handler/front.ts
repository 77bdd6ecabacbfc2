/**
 * What `serve()` puts in front of the user's handler, from its options: the health check
 * (outermost, so the balancer's polls never reach the handler or its access log) and the
 * trusted-proxy rewriting of the client address, scheme and host.
 */
import { withForwarded } from "../balancer/forwarded.ts";
import { withHealth } from "../balancer/health.ts";
import type { ServeHandler, ServeOptions } from "../options.ts";

/** Default `drainDelay` with a health check: a few polls of a balancer checking every second. */
export const DEFAULT_HEALTH_DRAIN_DELAY = 5_000;

export function frontHandler(
  handler: ServeHandler,
  options: ServeOptions,
  draining: () => boolean,
): ServeHandler {
  if (options.trustProxy !== undefined) handler = withForwarded(handler, options.trustProxy);
  if (options.health !== undefined) handler = withHealth(handler, options.health, draining);
  return handler;
}

/** Milliseconds between "health says 503" and "stop accepting" (see `ServeOptions.drainDelay`). */
export function drainDelay(options: ServeOptions): number {
  return options.drainDelay ?? (options.health !== undefined ? DEFAULT_HEALTH_DRAIN_DELAY : 0);
}
