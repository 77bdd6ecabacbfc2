/**
 * A proxy route: the path prefix it covers and the backend it forwards to, parsed and checked
 * once at startup, so that a mistake in `--proxy` or the config file is one line, not a 502.
 */
import { underPrefix } from "../routes.ts";

/** Where a proxy route forwards, as `--proxy PREFIX=URL` and the config file's `proxy` give it. */
export interface ProxyRoute {
  prefix: string;
  target: string;
}

/** A backend origin and how request paths map onto it. */
export interface Backend {
  hostname: string;
  port: number;
  /** The Host field sent to the backend: the target's host and port, as written. */
  host: string;
  /**
   * The path that replaces the prefix, or null to forward the path unchanged. As nginx's
   * `proxy_pass`: a target written with a path (even "/") replaces the prefix with it; one
   * without forwards `/api/x` as `/api/x`.
   */
  path: string | null;
}

/** Parses a target URL; throws an Error saying what is wrong. */
export function parseBackend(target: string): Backend {
  const match = /^http:\/\/([^/?#@]+)(\/[^?#]*)?$/i.exec(target);
  if (match === null) {
    throw new Error(
      `"${target}" must be an http:// URL with a host, an optional port and path, no query ` +
        "and no credentials",
    );
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(`"${target}" is not a URL`);
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    hostname,
    port: url.port === "" ? 80 : Number(url.port),
    host: url.host,
    path: match[2] === undefined ? null : url.pathname,
  };
}

/** Checks a prefix: a path starting with "/", no query. Throws an Error saying what is wrong. */
export function checkPrefix(prefix: string): void {
  if (!/^\/[^?#\s]*$/.test(prefix)) {
    throw new Error(`prefix "${prefix}" must be a path starting with "/" (no query, no spaces)`);
  }
}

/** The route covering `path` (the longest prefix wins), or null. */
export function routeFor<R extends ProxyRoute>(routes: readonly R[], path: string): R | null {
  let best: R | null = null;
  for (const route of routes) {
    if (
      underPrefix(path, route.prefix) && (best === null || route.prefix.length > best.prefix.length)
    ) {
      best = route;
    }
  }
  return best;
}

/** The path and query sent to the backend for `pathAndQuery` under `prefix`. */
export function backendTarget(backend: Backend, prefix: string, pathAndQuery: string): string {
  if (backend.path === null) return pathAndQuery;
  const rest = pathAndQuery.slice(prefix.length);
  const base = backend.path;
  if (rest === "" || rest.startsWith("?")) return base + rest;
  // "/api/x" under "/api" (or "/api/") onto "/v1" or "/v1/" is "/v1/x": one "/" between.
  const tail = rest.startsWith("/") ? rest.slice(1) : rest;
  return (base.endsWith("/") ? base : base + "/") + tail;
}
