/**
 * Creating the listening sockets: socket() + bind() + listen() happen inside each `Deno.listen*`
 * call. This module decides which one from the options and formats a listener's address as a URL.
 */
import type { ServeOptions, Transport } from "./options.ts";

export interface BoundListener {
  listener: Deno.Listener;
  transport: Transport;
  /** "http" or "https". */
  scheme: string;
}

/** Binds the listener the options ask for: Unix socket, TLS or plain TCP. */
export function listen(options: ServeOptions): BoundListener {
  if (options.path !== undefined) {
    const listener = Deno.listen({ transport: "unix", path: options.path });
    if (options.mode !== undefined) Deno.chmodSync(options.path, options.mode);
    return { listener, transport: "unix", scheme: "http" };
  }
  const hostname = options.hostname ?? "0.0.0.0";
  const port = options.port ?? 8000;
  if (options.cert !== undefined || options.key !== undefined) {
    if (options.cert === undefined || options.key === undefined) {
      throw new TypeError("TLS needs both cert and key");
    }
    const listener = Deno.listenTls({
      hostname,
      port,
      cert: options.cert,
      key: options.key,
      alpnProtocols: ["http/1.1"],
      reusePort: options.reusePort,
    });
    return { listener, transport: "tls", scheme: "https" };
  }
  const listener = Deno.listen({ hostname, port, reusePort: options.reusePort });
  return { listener, transport: "tcp", scheme: "http" };
}

/** `host:port` for a URL: IPv6 literals in brackets (RFC 3986 §3.2.2). */
export function formatHostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** The URL a person would open for this listener. */
export function listenerUrl(addr: Deno.Addr, scheme: string): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return `${scheme}+unix://${encodeURIComponent(addr.path)}/`;
  }
  const { hostname, port } = addr as Deno.NetAddr;
  return `${scheme}://${formatHostPort(hostname, port)}/`;
}
