/** What the connections of one listener share, and who is at the other end of each. */
import type { DirectHandler } from "../handler/direct.ts";
import type { Limits, ServeHandler, Transport } from "../options.ts";
import type { ProxyPolicy } from "../balancer/proxy_conn.ts";
import type { DeadlineTicker } from "./deadlines.ts";

/** What every connection of one listener shares. */
export interface ConnContext {
  handler: ServeHandler;
  /** The handler's direct entry point (direct.ts), or null. */
  direct: DirectHandler | null;
  onError: (error: unknown) => Response | Promise<Response>;
  limits: Limits;
  /** "http" or "https": the scheme of the URLs handed to the handler. */
  scheme: string;
  /** Authority used when a request has no usable Host (HTTP/1.0): the listener's host:port. */
  defaultHost: string;
  /** Which peers must start with a PROXY protocol header; null: nobody (proxy_conn.ts). */
  proxyProtocol: ProxyPolicy | null;
  /** The clock that enforces every connection's timeouts. */
  deadlines: DeadlineTicker;
  /**
   * Called once by each connection when its serving loop has ended (socket closed, buffers
   * released): a callback the listener shares, instead of a promise chain held by each connection.
   */
  ended?: (connection: EndedConnection) => void;
}

/** What a listener reads of a connection that ended (connection.ts's `Connection`). */
export interface EndedConnection {
  /** Its slot in the listener's registry of open connections. */
  readonly slot: number;
  readonly requests: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Whether it ended on an error of the engine's own. */
  readonly failed: boolean;
}

/** Who is at the other end of a connection. */
export interface Peer {
  /** The peer's address, or the client's that a PROXY protocol header gave. */
  remoteAddr: Deno.Addr;
  transport: Transport;
}
