/**
 * Creating the listening sockets: socket() + bind() + listen() happen inside each `Deno.listen*`
 * call. This module decides which one from the options and formats a listener's address as a URL.
 */
import type { ServeOptions, Transport } from "./options.ts";

export interface BoundListener {
  listener: Deno.Listener;
  transport: Transport;
}

/**
 * Binds the listener the options ask for: Unix socket, TLS or plain TCP. Synchronous, as
 * `Deno.serve` is, except when a Unix socket file is already there: whether it is stale can only
 * be learnt by connecting to it, which takes a promise.
 */
export function listen(options: ServeOptions): BoundListener | Promise<BoundListener> {
  const path = options.path;
  if (path !== undefined) {
    if (!pathExists(path)) return listenUnix(path, options.mode);
    return clearStaleSocket(path).then(() => listenUnix(path, options.mode));
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
      tcpBacklog: options.tcpBacklog,
    });
    return { listener, transport: "tls" };
  }
  const listener = Deno.listen({
    hostname,
    port,
    reusePort: options.reusePort,
    tcpBacklog: options.tcpBacklog,
  });
  return { listener, transport: "tcp" };
}

function listenUnix(path: string, mode: number | undefined): BoundListener {
  const listener = Deno.listen({ transport: "unix", path });
  if (mode !== undefined) Deno.chmodSync(path, mode);
  return { listener, transport: "unix" };
}

function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** An address as it stands in a URL or a log line: IPv6 literals in brackets (RFC 3986 §3.2.2). */
export function formatHost(hostname: string): string {
  return hostname.includes(":") ? `[${hostname}]` : hostname;
}

/** `host:port` for a URL: IPv6 literals in brackets (RFC 3986 §3.2.2). */
export function formatHostPort(hostname: string, port: number): string {
  return `${formatHost(hostname)}:${port}`;
}

/** The URL a person would open for this listener. */
export function listenerUrl(addr: Deno.Addr, scheme: string): string {
  if (addr.transport === "unix" || addr.transport === "unixpacket") {
    return `${scheme}+unix://${encodeURIComponent(addr.path)}/`;
  }
  const { hostname, port } = addr as Deno.NetAddr;
  return `${scheme}://${formatHostPort(hostname, port)}/`;
}

/**
 * A Unix socket path is a file, and bind() fails with EADDRINUSE while it exists, even when the
 * server that made it has died (a clean close removes it; a crash leaves it). So: if something
 * answers on the path, refuse to start; if nothing does, the file is stale and is removed; if the
 * path is not a socket at all, it is not ours to delete.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  if (!pathExists(path)) return;
  if (!Deno.lstatSync(path).isSocket) {
    throw new Deno.errors.AddrInUse(`${path} exists and is not a socket`);
  }
  try {
    const probe = await Deno.connect({ transport: "unix", path });
    probe.close();
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      Deno.removeSync(path);
      return;
    }
    throw error;
  }
  throw new Deno.errors.AddrInUse(`another server is listening on ${path}`);
}

/**
 * A plain copy of an accepted connection's address, which the connection keeps in its place:
 * Deno makes each address object in dictionary mode with a hidden class of its own (about 300
 * bytes; a copy is about 40), and the hostname is shared with the last copy's when equal.
 */
export function plainAddr(addr: Deno.Addr): Deno.Addr {
  switch (addr.transport) {
    case "tcp":
    case "udp": {
      const hostname = addr.hostname === lastHostname ? lastHostname : lastHostname = addr.hostname;
      return { transport: addr.transport, hostname, port: addr.port };
    }
    case "unix":
    case "unixpacket":
      return { transport: addr.transport, path: addr.path };
    default:
      return addr;
  }
}

let lastHostname = "";
