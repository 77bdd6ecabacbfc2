/** The options, limits and handler types of `serveDatagram()`, with their defaults. */
import type { RateLimit } from "./rate_limit.ts";
import type { HttpServer, Limits, ServeHandlerInfo } from "../options.ts";

/** The datagram transports. */
export type DatagramTransport = "udp" | "unixpacket";

/** The handler's second argument for a request that came in a datagram. */
export interface DatagramHandlerInfo extends ServeHandlerInfo {
  transport: DatagramTransport;
}

/**
 * A handler for datagram requests: like `ServeHandler` (any `ServeHandler` is one), and it may
 * return `null` to send no reply.
 */
export type DatagramHandler = (
  request: Request,
  info: DatagramHandlerInfo,
) => Response | null | Promise<Response | null>;

/** 65 535 minus the 8-byte UDP header (RFC 768) and the 20-byte IPv4 header (RFC 791). */
export const DEFAULT_MAX_DATAGRAM_BYTES = 65_507;
/** Largest UDP payload over IPv6 without jumbograms: 65 535 minus the UDP header (RFC 8200). */
export const MAX_UDP_PAYLOAD = 65_527;
/** Every IPv4 host must accept 576-byte datagrams (RFC 791): 548 bytes of UDP payload. */
export const MIN_DATAGRAM_BYTES = 512;
export const DEFAULT_MAX_IN_FLIGHT = 256;

/** The `Limits` that mean something for a datagram (no connections, no keep-alive, no drain). */
export type DatagramLimits = Pick<
  Limits,
  | "maxUriBytes"
  | "maxHeaderBytes"
  | "maxHeaderCount"
  | "maxBodyBytes"
  | "requestTimeout"
  | "shutdownGracePeriod"
>;

export interface DatagramCommonOptions {
  /** Aborting it shuts the listener down. */
  signal?: AbortSignal;
  /** Called once the socket is bound. Default: print where it listens. */
  onListen?: (addr: Deno.Addr) => void;
  /** Turns an error thrown by the handler into a reply (or `null`: none). Default: log, 500. */
  onError?: (error: unknown) => Response | null | Promise<Response | null>;
  /** Unset fields keep the defaults of `DEFAULT_LIMITS`. */
  limits?: Partial<DatagramLimits>;
  /** Largest datagram received or sent, in bytes. Default 65 507 (the IPv4 UDP maximum). */
  maxDatagramBytes?: number;
  /** Per-source token bucket, or `false` for none. Default: {@link DEFAULT_RATE_LIMIT} for UDP. */
  rateLimit?: RateLimit | false;
  /** Requests handled at once at most; then the listener stops receiving. Default 256. */
  maxInFlight?: number;
}

export interface UdpServeOptions extends DatagramCommonOptions {
  transport: "udp";
  /** Address to bind. Default "0.0.0.0", as `serve()`. */
  hostname?: string;
  /** UDP port; 0 picks a free one. */
  port: number;
  /** SO_REUSEADDR: share the port with other listeners (SSDP's 1900 usually has several). */
  reuseAddress?: boolean;
  /** Loop multicast sent from this socket back to local listeners. */
  loopback?: boolean;
}

export interface UnixPacketServeOptions extends DatagramCommonOptions {
  transport: "unixpacket";
  /** Socket path; it must not exist yet. The file is removed on shutdown. */
  path: string;
  /** Permissions of the socket file (e.g. 0o660). */
  mode?: number;
}

export type DatagramServeOptions = UdpServeOptions | UnixPacketServeOptions;

/**
 * What `serveDatagram()` returns: an `HttpServer` (without `ref` and `unref`), plus multicast
 * membership for UDP.
 */
export interface DatagramServer extends Omit<HttpServer, "ref" | "unref"> {
  /** Joins an IPv4 multicast group on the interface with address `networkInterface`. */
  joinMulticastV4(address: string, networkInterface: string): Promise<Deno.MulticastV4Membership>;
}
