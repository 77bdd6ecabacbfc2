/**
 * `--proxy PREFIX=URL`: requests under a prefix are forwarded to a backend and its answer is
 * streamed back, both bodies as they come. Hop-by-hop fields are dropped both ways (RFC 9110
 * §7.6.1), `X-Forwarded-For/-Proto/-Host` are added, and the Host sent is the backend's own.
 * A backend that cannot be reached answers 502, one that sends no response head within the
 * timeout 504, both with a body saying so; one that dies mid-body cuts the client's connection.
 */
import { runAfter } from "../../deno/timer.ts";
import type { ServeHandlerInfo } from "../../options.ts";
import { type Backend, backendTarget, parseBackend, type ProxyRoute, routeFor } from "./backend.ts";
import {
  BackendClosed,
  type BackendConnection,
  type BackendResponse,
  type RequestBodyFraming,
} from "./client.ts";
import { BackendPool } from "./pool.ts";
import { tunnel } from "./tunnel.ts";
import { claimUpgrade } from "../../conn/upgrade.ts";
import { describeError } from "../os_error.ts";

/** What the deadline of a forwarded request settles with. */
const TIMED_OUT = Symbol("timed out");

/** Default milliseconds from sending a request to the backend's response head: then 504. */
export const DEFAULT_PROXY_TIMEOUT_MS = 30_000;

/** Fields that belong to one connection, never forwarded (RFC 9110 §7.6.1), besides Proxy-*. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

interface Route extends ProxyRoute {
  backend: Backend;
  pool: BackendPool;
}

/** The proxy routes of a dev server, each with its pool of kept-alive connections. */
export class Proxy {
  #routes: Route[];
  #timeout: number;

  /** Throws when a route's target is not a valid backend URL (checked before, at startup). */
  constructor(routes: readonly ProxyRoute[], timeout = DEFAULT_PROXY_TIMEOUT_MS) {
    this.#timeout = timeout;
    this.#routes = routes.map((route) => {
      const backend = parseBackend(route.target);
      return { ...route, backend, pool: new BackendPool(backend) };
    });
  }

  /** The route covering `pathname`, or null. */
  covers(pathname: string): boolean {
    return routeFor(this.#routes, pathname) !== null;
  }

  /** Forwards `request`, which must be under one of the prefixes. */
  async forward(request: Request, info: ServeHandlerInfo): Promise<Response> {
    const url = new URL(request.url);
    const route = routeFor(this.#routes, url.pathname);
    if (route === null) throw new Error(`no proxy route covers ${url.pathname}`);
    const target = backendTarget(route.backend, route.prefix, url.pathname + url.search);
    const framing = requestBodyFraming(request);
    const head = requestHead(request, info, url, target, route.backend, framing);
    const where = `${route.target} for ${request.method} ${url.pathname}`;
    let timedOut = false;
    let connection: BackendConnection | null = null;
    // The deadline settles the wait itself: closing the connection ends a pending read on the
    // Deno versions tested, but the answer must not depend on it.
    const deadline = Promise.withResolvers<typeof TIMED_OUT>();
    const stopTimer = runAfter(this.#timeout, () => {
      timedOut = true;
      connection?.close();
      deadline.resolve(TIMED_OUT);
    });
    let response: BackendResponse;
    try {
      for (let attempt = 0;; attempt++) {
        try {
          const acquiring = route.pool.acquire(attempt > 0);
          const acquired = await Promise.race([acquiring, deadline.promise]);
          if (acquired === TIMED_OUT) {
            acquiring.then((late) => late.close(), () => {}); // a connect that succeeds too late
            return this.#timeoutAnswer(where);
          }
          connection = acquired;
        } catch (error) {
          if (timedOut) return this.#timeoutAnswer(where);
          return badGateway(where, `cannot connect: ${describeError(error)}`);
        }
        try {
          const exchanging = connection.exchange(
            head,
            request.method,
            request.body,
            framing,
            (message) =>
              console.error(`proxy: ${where}: ${message}; the client's connection is cut`),
          );
          const exchanged = await Promise.race([exchanging, deadline.promise]);
          if (exchanged === TIMED_OUT) {
            exchanging.catch(() => {}); // it fails on the closed connection, if ever it settles
            return this.#timeoutAnswer(where);
          }
          response = exchanged;
          break;
        } catch (error) {
          if (timedOut) return this.#timeoutAnswer(where);
          // A kept-alive connection the backend had closed: once more on a new one, when the
          // request can be sent again (no body was taken from the client).
          const retry = error instanceof BackendClosed && error.reused && attempt === 0 &&
            request.body === null;
          if (!retry) return badGateway(where, describeError(error));
        }
      }
    } finally {
      stopTimer();
    }
    const used = connection;
    if (response.head.status === 101) return this.#upgraded(request, response, used, where);
    response.done.then((reusable) => route.pool.release(used, reusable));
    return toResponse(response, where);
  }

  /**
   * The backend switched protocols: the client gets the 101 and, once the server has written it,
   * its connection is joined to the backend's. A 101 the client did not ask for is refused.
   */
  #upgraded(
    request: Request,
    response: BackendResponse,
    connection: BackendConnection,
    where: string,
  ): Response {
    const asked = upgradeOf(request);
    if (asked === null) {
      connection.close();
      return badGateway(where, "101 Switching Protocols to a request that asked for no upgrade");
    }
    const answer = toResponse(response, where);
    const protocol = headValue(response.head.fields, "upgrade") ?? asked;
    answer.headers.set("upgrade", protocol);
    let claimed = false;
    claimUpgrade(answer, (channel) => {
      claimed = true;
      tunnel(channel, connection).catch((error) => {
        console.error(`proxy: ${where}: the upgraded connection failed:`, error);
      });
    });
    // The client left before the 101 could be written: nobody will claim the backend's side.
    request.signal.addEventListener("abort", () => {
      if (!claimed) connection.close();
    }, { once: true });
    return answer;
  }

  #timeoutAnswer(where: string): Response {
    const message = `no response from ${where} within ${this.#timeout} ms`;
    console.error(`proxy: ${message}`);
    return plain(504, "Gateway Timeout", message);
  }

  /** Closes the idle connections of every pool. */
  close(): void {
    for (const route of this.#routes) route.pool.close();
  }
}

function badGateway(where: string, reason: string): Response {
  const message = `${where}: ${reason}`;
  console.error(`proxy: ${message}`);
  return plain(502, "Bad Gateway", message);
}

function plain(status: number, text: string, message: string): Response {
  return new Response(`${status} ${text}\n\nsockserve proxy: ${message}\n`, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}

/** Content-Length when the client gave one, chunked for a body of unknown length, or none. */
function requestBodyFraming(request: Request): RequestBodyFraming {
  const length = request.headers.get("content-length");
  if (length !== null && /^\d+$/.test(length)) return { kind: "length", length: Number(length) };
  return request.body === null ? { kind: "none" } : { kind: "chunked" };
}

/** The fields named by Connection, and the hop-by-hop ones: none of them cross the proxy. */
function isHopByHop(name: string, listed: Set<string>): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith("proxy-") || listed.has(name);
}

/** The request's `Upgrade` value when it asks for one (with `Connection: upgrade`), or null. */
function upgradeOf(request: Request): string | null {
  const upgrade = request.headers.get("upgrade");
  return upgrade !== null && connectionTokens(request.headers).has("upgrade") ? upgrade : null;
}

function headValue(fields: readonly string[], name: string): string | null {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return null;
}

function connectionTokens(headers: Headers): Set<string> {
  const value = headers.get("connection") ?? "";
  return new Set(value.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== ""));
}

/** The request head sent to the backend, as text with one character per byte. */
function requestHead(
  request: Request,
  info: ServeHandlerInfo,
  url: URL,
  target: string,
  backend: Backend,
  framing: RequestBodyFraming,
): string {
  const listed = connectionTokens(request.headers);
  let head = `${request.method} ${target} HTTP/1.1\r\nhost: ${backend.host}\r\n`;
  let forwardedFor: string | null = null;
  for (const [name, value] of request.headers) {
    // Host is the backend's; Expect was answered here already (the body is sent as it comes);
    // Content-Length is written from the framing below.
    if (isHopByHop(name, listed) || name === "host" || name === "expect") continue;
    if (name === "content-length") continue;
    if (name === "x-forwarded-for") {
      forwardedFor = value;
      continue;
    }
    if (name === "x-forwarded-proto" || name === "x-forwarded-host") continue;
    head += `${name}: ${value}\r\n`;
  }
  const client = "hostname" in info.remoteAddr ? info.remoteAddr.hostname : null;
  if (client !== null) {
    head += `x-forwarded-for: ${forwardedFor === null ? client : `${forwardedFor}, ${client}`}\r\n`;
  } else if (forwardedFor !== null) head += `x-forwarded-for: ${forwardedFor}\r\n`;
  head += `x-forwarded-proto: ${url.protocol.slice(0, -1)}\r\n`;
  head += `x-forwarded-host: ${url.host}\r\n`;
  // An upgrade (a WebSocket) is asked of the backend as the client asked it of us.
  const upgrade = upgradeOf(request);
  if (upgrade !== null) head += `connection: upgrade\r\nupgrade: ${upgrade}\r\n`;
  if (framing.kind === "length") head += `content-length: ${framing.length}\r\n`;
  else if (framing.kind === "chunked") head += "transfer-encoding: chunked\r\n";
  return head + "\r\n";
}

/** The backend's response as the client gets it: its fields less the hop-by-hop ones. */
function toResponse(response: BackendResponse, where: string): Response {
  const { head, body, framing } = response;
  const fields = head.fields;
  const listed = new Set<string>();
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== "connection") continue;
    for (const token of fields[i + 1].split(",")) listed.add(token.trim().toLowerCase());
  }
  const headers = new Headers();
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i];
    if (isHopByHop(name, listed)) continue;
    // The length goes on only where it frames this body (or states a HEAD's): the server checks
    // the body against it and closes the connection when the backend falls short.
    if (name === "content-length" && framing.kind !== "length" && framing.kind !== "none") continue;
    try {
      headers.append(name, fields[i + 1]);
    } catch {
      // a value Headers refuses: not passed on
    }
  }
  try {
    return new Response(body, { status: head.status, statusText: head.reason, headers });
  } catch (error) {
    body?.cancel().catch(() => {});
    return badGateway(where, `unusable response status ${head.status}: ${describeError(error)}`);
  }
}
