/**
 * The PROXY protocol on a live connection: which peers must send the header (`proxyPolicy`), and
 * reading it off the connection's `BufferedReader` before the first request (`readProxyHeader`).
 * The bytes after the header stay buffered for the HTTP parser.
 */
import type { BufferedReader } from "../io/reader.ts";
import { CidrList } from "./ip.ts";
import { formatHostPort } from "../listeners.ts";
import { parseProxyHeader, type ProxyHeader, type ProxyParseResult } from "./proxy_protocol.ts";
import type { ServeOptions } from "../options.ts";

/** Says, per peer address, whether the connection must start with a PROXY header. */
export type ProxyPolicy = (peer: Deno.Addr) => boolean;

/**
 * The policy for a listener, or null when PROXY headers are not expected (a header is then just
 * a bad request line: 400). `true`: every peer must send one (a listener only the balancer can
 * reach). `{ trusted }`: peers in those CIDR ranges must; others are served as plain HTTP and
 * cannot use the protocol, so a client cannot claim another address by sending a header itself.
 * A Unix socket peer has no IP address: who may connect is the socket file's mode, so it always
 * counts as trusted.
 */
export function proxyPolicy(options: ServeOptions): ProxyPolicy | null {
  const setting = options.proxyProtocol;
  if (setting === undefined || setting === false) return null;
  if (options.path === undefined && options.cert !== undefined) {
    // The header comes before the TLS handshake, which Deno.listenTls does out of our sight.
    throw new TypeError("proxyProtocol works on TCP and Unix listeners, not TLS");
  }
  if (setting === true) return () => true;
  const trusted = new CidrList(setting.trusted);
  return (peer) => peer.transport === "unix" || ("hostname" in peer && trusted.has(peer.hostname));
}

class ProxyHeaderError extends Error {}

/**
 * Reads the header at the start of the connection. Returns it, or the reason the connection must
 * be closed (no header, a malformed one, the peer leaving, the read failing on a timeout close).
 */
export async function readProxyHeader(reader: BufferedReader): Promise<ProxyHeader | string> {
  let parsed = { status: "incomplete" } as ProxyParseResult;
  try {
    // The parser is bounded by itself (107 bytes for v1, its v2 limit), so no byte limit here;
    // it reparses from the start after each read, which for a header this short costs nothing.
    const result = await reader.readMatch(
      (buf, start, _from, to) => {
        parsed = parseProxyHeader(buf.subarray(start, to));
        if (parsed.status === "error") throw new ProxyHeaderError(parsed.reason);
        return parsed.status === "complete" ? start + parsed.length : -1;
      },
      Infinity,
      0,
    );
    if (result.status !== "found" || parsed.status !== "complete") {
      return "connection closed before a complete PROXY protocol header";
    }
    return parsed.header;
  } catch (error) {
    if (error instanceof ProxyHeaderError) return `invalid PROXY protocol header: ${error.message}`;
    return `PROXY protocol header not read: ${(error as Error)?.message ?? error}`;
  }
}

/** A peer for a log line: `1.2.3.4:5678`, `[::1]:5678` or `unix:PATH`. */
export function describePeer(addr: Deno.Addr): string {
  if ("hostname" in addr) return formatHostPort(addr.hostname, addr.port);
  return "path" in addr ? `unix:${addr.path}` : addr.transport;
}
