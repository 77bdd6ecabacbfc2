/**
 * Forwarding headers from trusted proxies: `forwardedLayer(trustProxy)` wraps a handler so
 * that, for requests that come from a trusted proxy, the client address (`info.remoteAddr`), the
 * scheme and the host (the Request's URL) are the ones the proxies report, from
 * `X-Forwarded-For/-Proto/-Host` or from `Forwarded` (RFC 7239). Requests from anyone else are
 * passed on untouched: their forwarding headers are whatever the client wrote.
 */
import type { RequestView } from "../handler/direct.ts";
import type { Layer } from "../handler/layers.ts";
import { CidrList, formatIp, type IpBytes, parseIp, parseIpv4 } from "./ip.ts";
import type { ServeHandlerInfo, TrustProxyOptions } from "../options.ts";

/** One proxy hop as a header reports it: who the proxy's client was, and what it asked for. */
export interface Hop {
  /** The node (RFC 7239 §6): an address with an optional port, "unknown", or an obfuscated id. */
  for: string;
  proto?: string;
  host?: string;
}

/** What the chain says about the client; null fields mean "as the socket says". */
export interface ForwardedClient {
  addr: Deno.NetAddr | null;
  proto: string | null;
  host: string | null;
}

/** Rewrites what trusted proxies report; see the module comment. A bad CIDR is a TypeError. */
export function forwardedLayer(trustProxy: string[] | TrustProxyOptions): Layer {
  const options = Array.isArray(trustProxy) ? { trusted: trustProxy } : trustProxy;
  const trusted = new CidrList(options.trusted);
  const family = options.headers ?? "x-forwarded";
  const clientOf = (headers: RequestView["headers"]) =>
    resolveClient(
      family === "forwarded" ? parseForwarded(headers.get("forwarded")) : xForwardedHops(headers),
      trusted,
    );
  return {
    handler: (next) => (request, info) => {
      if (!isTrustedPeer(info.remoteAddr, trusted)) return next(request, info);
      const client = clientOf(request.headers);
      return next(rewriteRequest(request, client), rewriteInfo(info, client));
    },
    // A direct handler sees no scheme or host (RequestView has none): only the address changes.
    direct: (next) => (view, info) => {
      if (!isTrustedPeer(info.remoteAddr, trusted)) return next(view, info);
      return next(view, rewriteInfo(info, clientOf(view.headers)));
    },
  };
}

/** A Unix socket peer is a local proxy (the socket file's mode decides who may connect). */
function isTrustedPeer(peer: Deno.Addr, trusted: CidrList): boolean {
  return !("hostname" in peer) || trusted.has(peer.hostname);
}

/**
 * Picks the client from the chain of hops, client first, nearest proxy last.
 *
 * Why the right-most untrusted address and not the left-most: each proxy appends the address of
 * the peer it accepted, so only the entries written by our own proxies are facts; everything to
 * the left of the first entry that is not one of our proxies was written by the client (or by
 * proxies we know nothing of) and can say anything. A client that sends `X-Forwarded-For: 10.0.0.1`
 * gets `10.0.0.1, <its real address>` from our proxy; walking from the right and skipping our own
 * proxies stops at its real address. The left-most would be the forged one.
 *
 * A hop whose node is not an address ("unknown", an obfuscated name) ends the walk without an
 * address: the client is not known, and the last trusted proxy's view is kept. When every hop is
 * one of our proxies, the left-most is the client (a request from inside).
 */
export function resolveClient(hops: Hop[], trusted: CidrList): ForwardedClient {
  let chosen: Hop | null = null;
  let addr: Deno.NetAddr | null = null;
  for (let i = hops.length - 1; i >= 0; i--) {
    const node = parseNode(hops[i].for);
    if (node === null) break;
    chosen = hops[i];
    addr = node;
    if (!trusted.has(node.hostname)) break;
  }
  const proto = chosen?.proto?.toLowerCase();
  return {
    addr,
    proto: proto === "http" || proto === "https" ? proto : null,
    host: chosen?.host !== undefined && VALID_HOST.test(chosen.host) ? chosen.host : null,
  };
}

/** uri-host [":" port]: a reg-name, IPv4 or bracketed IPv6, and nothing that could end a URL. */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{1,5})?$/;

/**
 * A node (RFC 7239 §6) as an address: `192.0.2.43`, `192.0.2.43:47011`, `[2001:db8::1]`,
 * `[2001:db8::1]:4711`, or (X-Forwarded-For only) a bare IPv6 `2001:db8::1`. The port is 0 when
 * absent or obfuscated. Null for "unknown", obfuscated identifiers and anything malformed.
 */
export function parseNode(node: string): Deno.NetAddr | null {
  let address = node, portText = "";
  if (node.startsWith("[")) {
    const close = node.indexOf("]");
    address = node.slice(0, close + 1);
    portText = node.slice(close + 1);
    if (close === -1 || (portText !== "" && !portText.startsWith(":"))) return null;
    portText = portText.slice(1);
  } else if (node.split(":").length === 2) {
    [address, portText] = node.split(":");
  }
  const bytes: IpBytes | null = address.includes(":") || address.startsWith("[")
    ? parseIp(address)
    : parseIpv4(address);
  if (!bytes) return null;
  const port = /^\d{1,5}$/.test(portText) && Number(portText) <= 65535 ? Number(portText) : 0;
  if (portText !== "" && port === 0 && !portText.startsWith("_")) return null;
  return { transport: "tcp", hostname: formatIp(bytes), port };
}

/**
 * The hops of `X-Forwarded-For`, with `X-Forwarded-Proto`/`-Host` attached. Those two have no
 * standard per-hop form: when a list has as many entries as X-Forwarded-For they line up with
 * its hops (each proxy appended one); otherwise their last value, the nearest proxy's, goes with
 * every hop.
 */
export function xForwardedHops(headers: RequestView["headers"]): Hop[] {
  const list = (name: string) =>
    headers.get(name)?.split(",").map((value) => value.trim()).filter((value) => value !== "") ??
      [];
  const fors = list("x-forwarded-for");
  const protos = list("x-forwarded-proto");
  const hosts = list("x-forwarded-host");
  const at = (values: string[], i: number) =>
    values.length === fors.length ? values[i] : values[values.length - 1];
  return fors.map((node, i) => ({ for: node, proto: at(protos, i), host: at(hosts, i) }));
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * `Forwarded` (RFC 7239 §4): comma-separated elements of `;`-separated `name=value` pairs, values
 * tokens or quoted strings. A malformed header gives no hops at all: a chain that cannot be read
 * cannot be trusted in part.
 */
export function parseForwarded(value: string | null): Hop[] {
  if (value === null) return [];
  const hops: Hop[] = [];
  let pairs = new Map<string, string>();
  const endElement = () => {
    const node = pairs.get("for");
    hops.push({ for: node ?? "unknown", proto: pairs.get("proto"), host: pairs.get("host") });
    pairs = new Map();
  };
  let i = 0;
  const skipSpace = () => {
    while (value[i] === " " || value[i] === "\t") i++;
  };
  for (;;) {
    skipSpace();
    const eq = value.indexOf("=", i);
    if (eq === -1) return [];
    const name = value.slice(i, eq).toLowerCase();
    if (!TOKEN.test(name) || pairs.has(name)) return []; // §4: each parameter once per element
    i = eq + 1;
    let pairValue: string;
    if (value[i] === '"') {
      let out = "";
      for (i++; i < value.length && value[i] !== '"'; i++) {
        if (value[i] === "\\") i++; // quoted-pair
        out += value[i] ?? "";
      }
      if (value[i] !== '"') return [];
      i++;
      pairValue = out;
    } else {
      const start = i;
      while (i < value.length && !";, \t".includes(value[i])) i++;
      pairValue = value.slice(start, i);
      if (!TOKEN.test(pairValue)) return [];
    }
    pairs.set(name, pairValue);
    skipSpace();
    if (i >= value.length) break;
    if (value[i] === ",") endElement();
    else if (value[i] !== ";") return [];
    i++;
  }
  endElement();
  return hops;
}

function rewriteRequest(request: Request, client: ForwardedClient): Request {
  if (client.proto === null && client.host === null) return request;
  const url = new URL(request.url);
  const proto = client.proto ?? url.protocol.slice(0, -1);
  const host = client.host ?? url.host;
  let next: URL;
  try {
    next = new URL(`${proto}://${host}${url.pathname}${url.search}`);
  } catch {
    return request; // a host that does not make a URL changes nothing
  }
  return new Request(next, request);
}

function rewriteInfo(info: ServeHandlerInfo, client: ForwardedClient): ServeHandlerInfo {
  if (client.addr === null) return info;
  // `completed` is the engine's, made when first read: passed on, not copied.
  return {
    remoteAddr: client.addr,
    transport: info.transport,
    get completed() {
      return info.completed;
    },
  };
}
