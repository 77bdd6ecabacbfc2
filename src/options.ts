/**
 * The public shapes of the embedding API and the named limits with their documented defaults.
 * Kept apart from the code that enforces them so that a reader finds every knob in one place
 * (as Go's net/http does with Server's fields).
 */

/** How the request reached the server. */
export type Transport = "tcp" | "tls" | "unix" | "udp" | "unixpacket";

/**
 * The second argument of a handler, Deno's `ServeHandlerInfo` plus the transport: `remoteAddr` is
 * the peer's address as the socket reports it (or as a trusted proxy says).
 */
export interface ServeHandlerInfo<Addr extends Deno.Addr = Deno.Addr> {
  remoteAddr: Addr;
  transport: Transport;
  /**
   * Resolves once the response was written whole to the socket; rejects
   * (`Deno.errors.Interrupted`) when it was not: the client left before, a timeout or an error
   * answer came instead, or shutdown closed the connection. Made when first read.
   */
  readonly completed: Promise<void>;
}

/** Same shape as `Deno.ServeHandler`, so one handler runs under `Deno.serve` and under `serve`. */
export type ServeHandler<Addr extends Deno.Addr = Deno.Addr> = (
  request: Request,
  info: ServeHandlerInfo<Addr>,
) => Response | Promise<Response>;

/** Limits and timeouts. Every field is optional; the defaults are in {@link DEFAULT_LIMITS}. */
export interface Limits {
  /** Longest request line (method, target, version) in bytes; longer gives 414. */
  maxUriBytes: number;
  /** Largest header section (all field lines) in bytes; larger gives 431. */
  maxHeaderBytes: number;
  /** Most header fields in one request; more gives 431. */
  maxHeaderCount: number;
  /**
   * Largest request body in bytes, whatever its framing; larger gives 413. The default, 128 MiB
   * (Bun's), lets ordinary uploads through as Deno.serve (which has no limit) does.
   */
  maxBodyBytes: number;
  /**
   * Unread request body the server will read and discard to keep a connection alive after the
   * handler answered without reading it; more than this and the connection is closed instead.
   */
  maxDrainBytes: number;
  /** Milliseconds from the first byte of a request to the end of its head; then 408 and close. */
  headersTimeout: number;
  /** Milliseconds an idle keep-alive connection waits for its next request before closing. */
  keepAliveTimeout: number;
  /**
   * Milliseconds one write to the client may wait for room (the client not reading); then the
   * connection is closed. Progress restarts the clock, so a slow but moving download is never cut
   * (nginx's send_timeout). 0 disables it.
   */
  writeTimeout: number;
  /**
   * Milliseconds a handler may take to produce its `Response`; then 503 and close.
   * 0 disables the limit (the default: long polls and slow uploads are legitimate).
   */
  requestTimeout: number;
  /** Open connections at most; at the limit the server stops accepting until one closes. */
  maxConnections: number;
  /** Milliseconds `shutdown()` lets in-flight requests run before closing their connections. */
  shutdownGracePeriod: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxUriBytes: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: 128 * 1024 * 1024,
  maxDrainBytes: 256 * 1024,
  headersTimeout: 10_000,
  keepAliveTimeout: 5_000,
  writeTimeout: 60_000,
  requestTimeout: 0,
  maxConnections: 10_000,
  shutdownGracePeriod: 10_000,
});

/**
 * Options of `serve()`; the names follow `Deno.ServeOptions` where Deno.serve has the feature.
 * `Addr` is the listener's kind of address (`ServeTcpOptions` and `ServeUnixOptions` fix it).
 */
export interface ServeOptions<Addr extends Deno.Addr = Deno.Addr> {
  /** TCP port; 0 picks a free one. Default 8000. Ignored when `path` is set. */
  port?: number;
  /** Address to bind. Default "0.0.0.0", as Deno.serve. */
  hostname?: string;
  /** Listen on this Unix domain socket path instead of TCP. */
  path?: string;
  /** Permissions of the Unix socket file (e.g. 0o660). */
  mode?: number;
  /** PEM certificate chain: with `key`, serve HTTPS. */
  cert?: string;
  /** PEM private key for `cert`. */
  key?: string;
  /** Share the port with other listeners (SO_REUSEPORT, Linux). */
  reusePort?: boolean;
  /**
   * Most connections the kernel queues for `accept` (the `listen(2)` backlog), as Deno.listen's
   * `tcpBacklog`. Default: Deno's (511). TCP and TLS listeners.
   */
  tcpBacklog?: number;
  /** Aborting it shuts the server down gracefully. */
  signal?: AbortSignal;
  /** Called once the listener is bound. Default: print the URL, as Deno.serve does. */
  onListen?: (localAddr: Addr) => void;
  /** Turns an error thrown by the handler into a response. Default: log it, answer 500. */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** Limits and timeouts; unset fields keep their defaults. */
  limits?: Partial<Limits>;
  /**
   * Expect a PROXY protocol header (v1 or v2, HAProxy's spec) first on each connection, from a
   * balancer that passes TCP through: its source becomes `info.remoteAddr`. `true`: from every
   * peer; `{ trusted }`: from peers in those CIDR ranges (and Unix socket peers), the others are
   * served as plain HTTP. A peer that must send it and does not is closed (and logged). TCP and
   * Unix listeners only. See docs/deploy.md.
   */
  proxyProtocol?: boolean | { trusted: string[] };
  /**
   * Proxies (CIDR ranges) whose forwarding headers are believed: for requests from them, the
   * client address, scheme and host the handler sees come from `X-Forwarded-For/-Proto/-Host`
   * (default) or from `Forwarded` (RFC 7239) with `{ trusted, headers: "forwarded" }`. Without it
   * those headers are passed on untouched and mean nothing to the server.
   */
  trustProxy?: string[] | TrustProxyOptions;
  /**
   * A path answered by the server itself: 200 while serving, 503 once shutdown has begun, so a
   * load balancer's health check takes the instance out of rotation before it stops.
   */
  health?: string;
  /**
   * Milliseconds between the start of shutdown (health checks answer 503) and closing the
   * listener; requests are served as usual meanwhile. Default 5000 with `health`, else 0.
   */
  drainDelay?: number;
}

/** Which forwarding headers to believe, and from whom. */
export interface TrustProxyOptions {
  /** CIDR ranges (or single addresses) of the proxies in front of the server. */
  trusted: string[];
  /**
   * "x-forwarded" (default: what nginx and HAProxy send) or "forwarded" (RFC 7239). One family
   * only: a proxy that writes one family passes the other through from the client untouched.
   */
  headers?: "x-forwarded" | "forwarded";
}

/** Options of a TCP (or, with `cert` and `key`, TLS) server: `Deno.ServeTcpOptions`' shape. */
export interface ServeTcpOptions extends ServeOptions<Deno.NetAddr> {
  transport?: "tcp";
  path?: undefined;
}

/** Options of a Unix socket server: `Deno.ServeUnixOptions`' shape. */
export interface ServeUnixOptions extends ServeOptions<Deno.UnixAddr> {
  transport?: "unix";
  path: string;
}

export interface ServeInit<Addr extends Deno.Addr = Deno.Addr> extends ServeOptions<Addr> {
  handler: ServeHandler<Addr>;
}

/** Counters of one server since it started (the demo's live panel draws them). */
export interface ServerStats {
  /** Connections open now. */
  connections: number;
  /** Requests answered (handler called), all connections together. */
  requests: number;
  /** Bytes received from clients. */
  bytesIn: number;
  /** Bytes sent to clients. */
  bytesOut: number;
  /**
   * Connections ended by an error of the engine itself (logged with its stack), not by the
   * client, a timeout or the handler.
   */
  engineErrors: number;
}

/** What `serve()` returns; the shape of `Deno.HttpServer`, plus `stats()`. */
export interface HttpServer<Addr extends Deno.Addr = Deno.Addr> extends AsyncDisposable {
  /** The bound address (with the real port when 0 was asked). */
  readonly addr: Addr;
  /** Resolves once the server has stopped and every connection is closed. */
  readonly finished: Promise<void>;
  /** Stop accepting, let in-flight requests finish (within the grace period), close the rest. */
  shutdown(): Promise<void>;
  /** Keeps the process alive while the server runs (the default; undoes `unref`). */
  ref(): void;
  /** Lets the process end although the server (and its open connections) still run. */
  unref(): void;
  /** Live counters: open connections, requests, bytes in and out. */
  stats(): ServerStats;
}
