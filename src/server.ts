/**
 * `serve()`: the listener, the accept loop, the registry of open connections, the connection limit
 * and graceful shutdown. One `Connection` per accepted client, each running on its own.
 */
import { directOf } from "./handler/direct.ts";
import { type ConnContext, Connection } from "./conn/connection.ts";
import type { EndedConnection } from "./conn/context.ts";
import { DeadlineTicker } from "./conn/deadlines.ts";
import { defaultOnError } from "./handler/dispatch.ts";
import { Registry } from "./conn/registry.ts";
import { compose, type Layer } from "./handler/layers.ts";
import { drainDelay, healthLayer } from "./balancer/health.ts";
import { forwardedLayer } from "./balancer/forwarded.ts";
import { proxyPolicy } from "./balancer/proxy_conn.ts";
import { checkSocketRead } from "./deno/socket.ts";
import { type BoundListener, formatHostPort, listen, listenerUrl, plainAddr } from "./listeners.ts";
import {
  DEFAULT_LIMITS,
  type HttpServer,
  type ServeHandler,
  type ServeInit,
  type ServeOptions,
  type ServerStats,
  type ServeTcpOptions,
  type ServeUnixOptions,
  type Transport,
} from "./options.ts";

// The overloads are Deno.serve's: a handler typed `Deno.ServeHandler`, options typed
// `Deno.ServeTcpOptions` or `Deno.ServeUnixOptions`, and a result kept as `Deno.HttpServer` all
// fit, and `server.addr` is the listener's kind of address.

/** Starts a server with the default options (port 8000 on all interfaces, as Deno.serve). */
export function serve(handler: ServeHandler<Deno.NetAddr>): HttpServer<Deno.NetAddr>;
/** Starts a server on a Unix socket, answering with `handler`. */
export function serve(
  options: ServeUnixOptions,
  handler: ServeHandler<Deno.UnixAddr>,
): HttpServer<Deno.UnixAddr>;
/** Starts a TCP (or TLS) server with `options`, answering with `handler`. */
export function serve(
  options: ServeTcpOptions,
  handler: ServeHandler<Deno.NetAddr>,
): HttpServer<Deno.NetAddr>;
/** Starts a server with `options`, answering with `handler`. */
export function serve(options: ServeOptions, handler: ServeHandler): HttpServer;
/** Starts a server on a Unix socket whose options include the handler. */
export function serve(init: ServeUnixOptions & ServeInit<Deno.UnixAddr>): HttpServer<Deno.UnixAddr>;
/** Starts a TCP (or TLS) server whose options include the handler. */
export function serve(init: ServeTcpOptions & ServeInit<Deno.NetAddr>): HttpServer<Deno.NetAddr>;
/** Starts a server whose options include the handler. */
export function serve(init: ServeInit): HttpServer;
export function serve(
  a: ServeHandler<never> | ServeOptions<never> | ServeInit<never>,
  b?: ServeHandler<never>,
): HttpServer {
  // The handler sees the address of the listener's kind, which its overload promised.
  if (typeof a === "function") return new Server({}, a as ServeHandler);
  const handler = (b ?? (a as ServeInit<never>).handler) as ServeHandler;
  if (typeof handler !== "function") throw new TypeError("serve() needs a handler function");
  return new Server(a as ServeOptions, handler);
}

class Server implements HttpServer {
  readonly addr: Deno.Addr;
  readonly finished: Promise<void>;
  #listener: Deno.Listener | null = null;
  #ctx: ConnContext;
  #connections = new Registry<Connection>();
  #closing = false;
  /** Set when shutdown begins: health checks answer 503; resolves when the drain delay is over. */
  #draining: Promise<void> | null = null;
  #drainDelay = 0;
  /** Resolves the wait of an accept loop held back by `maxConnections`. */
  #roomFreed: (() => void) | null = null;
  #allClosed: (() => void) | null = null;
  /** Counters of the connections already closed (open ones are asked live). */
  #closedTotals = { requests: 0, bytesIn: 0, bytesOut: 0, engineErrors: 0 };
  /** False once `unref` was called (and `ref` not since). */
  #refed = true;

  constructor(options: ServeOptions, handler: ServeHandler) {
    // Option mistakes (a bad CIDR, PROXY on TLS) throw before anything is bound.
    const front = compose(handler, this.#layers(options));
    const proxyProtocol = proxyPolicy(options);
    const delay = drainDelay(options);
    const bound = listen(options);
    // A Unix path whose old socket file must be probed first binds a moment later; its address
    // is known already.
    this.addr = bound instanceof Promise
      ? { transport: "unix", path: options.path! }
      : bound.listener.addr;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#ctx = {
      handler: front,
      direct: directOf(front),
      onError: options.onError ?? defaultOnError,
      limits,
      scheme: options.cert === undefined ? "http" : "https",
      defaultHost: this.addr.transport === "tcp"
        ? formatHostPort(this.addr.hostname, this.addr.port)
        : "localhost",
      proxyProtocol,
      deadlines: new DeadlineTicker(limits),
      ended: (connection) => this.#ended(connection),
    };
    const onListen = options.onListen ??
      ((addr: Deno.Addr) => console.log(`Listening on ${listenerUrl(addr, this.#ctx.scheme)}`));
    options.signal?.addEventListener("abort", () => this.shutdown(), { once: true });
    this.#drainDelay = delay;
    const start = (bound: BoundListener) => {
      this.#listener = bound.listener;
      if (!this.#refed) bound.listener.unref();
      if (this.#closing) bound.listener.close();
      else onListen(this.addr);
      return this.#acceptLoop(bound.listener, bound.transport);
    };
    // Bound already (the usual case): onListen runs before serve() returns, as with Deno.serve.
    this.finished = bound instanceof Promise ? bound.then(start) : start(bound);
  }

  /**
   * What a request meets before the user's handler, outermost first: the health check (so a
   * balancer's polls never reach the handler or its access log), then the trusted-proxy rewriting
   * of the client address, scheme and host.
   */
  #layers(options: ServeOptions): Layer[] {
    const layers: Layer[] = [];
    const draining = () => this.#draining !== null || this.#closing;
    if (options.health !== undefined) layers.push(healthLayer(options.health, draining));
    if (options.trustProxy !== undefined) layers.push(forwardedLayer(options.trustProxy));
    return layers;
  }

  async #acceptLoop(listener: Deno.Listener, transport: Transport): Promise<void> {
    const { maxConnections } = this.#ctx.limits;
    // Deno's read operation passes its check (or not) before the first connection is read.
    await checkSocketRead();
    while (!this.#closing) {
      if (this.#connections.size >= maxConnections) {
        // Stop accepting: new clients wait in the kernel's backlog until a connection closes.
        await new Promise<void>((resolve) => this.#roomFreed = resolve);
        continue;
      }
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#closing || error instanceof Deno.errors.BadResource) break;
        // EMFILE and friends: this accept failed, the listener did not. Try again shortly.
        console.error("sockserve: accept failed:", error);
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const connection = new Connection(
        conn,
        { remoteAddr: plainAddr(conn.remoteAddr), transport },
        this.#ctx,
      );
      if (!this.#refed) connection.unref();
      this.#track(connection);
    }
    if (this.#connections.size > 0) {
      await new Promise<void>((resolve) => this.#allClosed = resolve);
    }
  }

  /**
   * Counts `connection` open and serves it. Its end comes back through `ctx.ended` (`#ended`): its
   * serving promise gets no callback, which every idle connection would hold.
   */
  #track(connection: Connection): void {
    connection.slot = this.#connections.add(connection);
    connection.serve();
  }

  /** A connection's serving loop has ended: it is counted closed, and room is made for another. */
  #ended(connection: EndedConnection): void {
    this.#connections.delete(connection.slot);
    this.#closedTotals.requests += connection.requests;
    this.#closedTotals.bytesIn += connection.bytesIn;
    this.#closedTotals.bytesOut += connection.bytesOut;
    if (connection.failed) this.#closedTotals.engineErrors++;
    this.#roomFreed?.();
    this.#roomFreed = null;
    if (this.#connections.size === 0) this.#allClosed?.();
  }

  async shutdown(): Promise<void> {
    // Serve on for the drain delay (health checks now 503), so that the balancer stops sending
    // before the listener closes. Without one, the listener closes before shutdown() returns.
    if (this.#drainDelay > 0 && !this.#closing) {
      const delay = this.#drainDelay;
      await (this.#draining ??= new Promise((resolve) => setTimeout(resolve, delay)));
    }
    if (!this.#closing) {
      this.#closing = true;
      try {
        // Closing a Unix listener also removes its socket file.
        this.#listener?.close();
      } catch {
        // already closed
      }
      this.#roomFreed?.();
      for (const connection of this.#connections) connection.drain();
      const grace = setTimeout(() => {
        for (const connection of this.#connections) connection.close();
      }, this.#ctx.limits.shutdownGracePeriod);
      this.finished.finally(() => clearTimeout(grace));
    }
    await this.finished;
  }

  stats(): ServerStats {
    const stats = { connections: this.#connections.size, ...this.#closedTotals };
    for (const connection of this.#connections) {
      stats.requests += connection.requests;
      stats.bytesIn += connection.bytesIn;
      stats.bytesOut += connection.bytesOut;
    }
    return stats;
  }

  ref(): void {
    this.#setRef(true);
  }

  unref(): void {
    this.#setRef(false);
  }

  /**
   * Whether the server keeps the process alive: its listener's accept, its connections' reads
   * and the clock of their timeouts (what a handler awaits is the handler's own).
   */
  #setRef(refed: boolean): void {
    if (this.#refed === refed) return;
    this.#refed = refed;
    try {
      if (refed) this.#listener?.ref();
      else this.#listener?.unref();
    } catch {
      // closed already
    }
    this.#ctx.deadlines.setRef(refed);
    for (const connection of this.#connections) {
      if (refed) connection.ref();
      else connection.unref();
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
