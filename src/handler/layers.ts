/**
 * Layers: what stands between the connection and the user's handler, each written once for both
 * of the handler's entry points — the `Request` one and the direct one (direct.ts) — and composed
 * in one place (`compose`), so the order a request meets them is the order of one list.
 *
 * A layer that does not care about the direct path leaves it out: the composed handler then has no
 * direct entry point, and every request takes the `Request` path (correct, only slower).
 */
import { type DirectHandler, directOf, withDirect } from "./direct.ts";
import type { ServeHandler } from "../options.ts";

/** One wrapper around both entry points of a handler. */
export interface Layer {
  /** Wraps the `Request` entry point. */
  handler(next: ServeHandler): ServeHandler;
  /** Wraps the direct entry point the same way; absent: the layer closes the direct path. */
  direct?(next: DirectHandler): DirectHandler;
}

/**
 * `handler` inside `layers`, the first layer outermost (the first a request meets). A handler
 * without a direct entry point stays without one.
 */
export function compose(handler: ServeHandler, layers: readonly Layer[]): ServeHandler {
  let outer = handler;
  let direct = directOf(handler);
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i];
    outer = layer.handler(outer);
    direct = direct !== null && layer.direct !== undefined ? layer.direct(direct) : null;
  }
  return direct === null ? outer : withDirect(outer, direct);
}
