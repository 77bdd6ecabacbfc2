/**
 * HTTP over datagrams: `serveDatagram()` answers HTTP/1.1 requests that arrive one per datagram on
 * a UDP or Unix datagram socket — HTTPU, as SSDP and the rest of UPnP use it (UPnP Device
 * Architecture 1.1, §1.1.2 "SSDP message format": "HTTP over UDP").
 *
 * One datagram is one complete request; one reply datagram is one complete response.
 * - Requests are parsed by the TCP engine's own parser and framing (`findHeadEnd`, `parseHead`,
 *   `requestFraming`, `ChunkedDecoder`): same strictness, same limits, same error statuses.
 *   The datagram must hold exactly the message: a body cut short, or bytes after the end of the
 *   message, are a 400 (there is no next request for them to belong to). A chunked body is
 *   decoded when it is complete inside the datagram (it costs nothing: the decoder is shared).
 *   A datagram over `maxDatagramBytes` is a 413. An empty datagram is ignored: it holds no
 *   request at all, and it is what port scanners send (answering would confirm the port to them
 *   and turn zero bytes into a reply).
 * - The reply always has Content-Length framing (RFC 9112 §6.2), never chunked, and no
 *   Connection or Keep-Alive fields: there is no connection. It is written as HTTP/1.1 whatever
 *   the request's minor version, as RFC 9110 §6.2 asks of a server ("the highest version to which
 *   the server is conformant"). A response that does not fit in one datagram is replaced by a
 *   500 saying so — never truncated (a truncated HTTPU message is indistinguishable from a whole
 *   one if it lost its Content-Length). 500, not 507 (WebDAV's "cannot store the representation",
 *   RFC 4918 §11.5) nor 413 (about the request's content): the request was fine, the server
 *   produced something its transport cannot carry.
 * - A handler may return `null`: no reply at all (an SSDP device stays silent for searches that
 *   do not concern it, UDA 1.1 §1.3.2). A handler that throws gives a 500 datagram (or what
 *   `onError` returns); a malformed datagram gives its 4xx; neither stops the listener.
 *
 * Reflection. A UDP source address is not authenticated: anyone can send a request "from" a
 * victim's address and have the reply land there. Two defences, both on by default for UDP:
 * - Rate limit per source (`rateLimit`, default {@link DEFAULT_RATE_LIMIT}): a token bucket per
 *   source address — each datagram that arrives costs one token, before it is parsed, answered or
 *   not — so a flood costs us a `receive()` and costs the victim at most `burst` replies, then
 *   `perSecond`. The key is the IPv4 address, or the /64 prefix of an IPv6 address (one host
 *   commonly owns a whole /64, RFC 7421), so rotating through a victim's addresses gains nothing.
 *   The map of buckets is bounded (`maxSources`, least recently seen evicted first: an address
 *   under attack is recently seen, so it keeps its empty bucket). Unix datagram sockets default to
 *   no limit: the kernel writes the sender's address there, it cannot be forged.
 * - Amplification: no separate reply/request size ratio (QUIC's 3×, RFC 9000 §8, would refuse
 *   an SSDP search response, several times its M-SEARCH, and any file served with `--udp`). The
 *   reply size is bounded by `maxDatagramBytes` and the count by the bucket, so the bytes reflected
 *   to one victim are at most (burst + perSecond·t) × maxDatagramBytes; on a port open to the
 *   Internet, lower `maxDatagramBytes` (e.g. 1232) and the bucket.
 *
 * Concurrency: datagrams are answered concurrently, at most `maxInFlight` at a time; beyond that
 * the listener stops receiving and the kernel's socket buffer (then loss, as UDP allows) absorbs
 * the excess.
 */
import { HttpError } from "../errors.ts";
import { encodeError } from "../http1/encode.ts";
import { defaultOnError, dispatch } from "../handler/dispatch.ts";
import { RequestInfo } from "../handler/request_info.ts";
import { formatHostPort } from "../listeners.ts";
import { DEFAULT_RATE_LIMIT, sourceKey, TokenBuckets } from "./rate_limit.ts";
import { encodeReplyDatagram, parseRequestDatagram } from "./message.ts";
import {
  type DatagramHandler,
  type DatagramLimits,
  type DatagramServeOptions,
  type DatagramServer,
  type DatagramTransport,
  DEFAULT_MAX_DATAGRAM_BYTES,
  DEFAULT_MAX_IN_FLIGHT,
  MAX_UDP_PAYLOAD,
  MIN_DATAGRAM_BYTES,
} from "./options.ts";
import { DEFAULT_LIMITS, type Limits, type ServerStats } from "../options.ts";

/** Starts answering HTTP requests that arrive one per datagram. Needs `--unstable-net`. */
export function serveDatagram(
  options: DatagramServeOptions,
  handler: DatagramHandler,
): DatagramServer {
  if (typeof handler !== "function") throw new TypeError("serveDatagram() needs a handler");
  return new DatagramListener(options, handler);
}

class DatagramListener implements DatagramServer {
  readonly addr: Deno.Addr;
  readonly finished: Promise<void>;
  #socket: Deno.DatagramConn;
  #transport: DatagramTransport;
  #path: string | null;
  #handler: DatagramHandler;
  #onError: (error: unknown) => Response | null | Promise<Response | null>;
  #limits: Required<DatagramLimits>;
  #maxDatagramBytes: number;
  #maxInFlight: number;
  #buckets: TokenBuckets | null;
  #defaultHost: string;
  #inFlight = new Set<Promise<void>>();
  #closing = false;
  /** Ends the current wait of the receive loop (set anew for each wait). */
  #wake: (() => void) | null = null;
  #slotFreed: (() => void) | null = null;
  #pendingReceive: Promise<void> = Promise.resolve();
  #stats: ServerStats = { connections: 0, requests: 0, bytesIn: 0, bytesOut: 0, engineErrors: 0 };

  constructor(options: DatagramServeOptions, handler: DatagramHandler) {
    this.#handler = handler;
    this.#onError = options.onError ?? defaultOnError;
    this.#limits = { ...pickLimits(DEFAULT_LIMITS), ...options.limits };
    this.#transport = options.transport;
    this.#maxDatagramBytes = options.maxDatagramBytes ?? DEFAULT_MAX_DATAGRAM_BYTES;
    const maxBytes = options.transport === "udp" ? MAX_UDP_PAYLOAD : Infinity;
    if (
      !Number.isInteger(this.#maxDatagramBytes) || this.#maxDatagramBytes < MIN_DATAGRAM_BYTES ||
      this.#maxDatagramBytes > maxBytes
    ) {
      throw new RangeError(
        `maxDatagramBytes must be an integer from ${MIN_DATAGRAM_BYTES} to ${maxBytes}`,
      );
    }
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    const rate = options.rateLimit ?? (options.transport === "udp" ? DEFAULT_RATE_LIMIT : false);
    this.#buckets = rate === false ? null : new TokenBuckets(rate);

    if (options.transport === "unixpacket") {
      this.#socket = bindUnixPacket(options.path);
      this.#path = options.path;
      if (options.mode !== undefined) Deno.chmodSync(options.path, options.mode);
      this.#defaultHost = "localhost";
    } else {
      this.#socket = Deno.listenDatagram({
        transport: "udp",
        hostname: options.hostname ?? "0.0.0.0",
        port: options.port,
        reuseAddress: options.reuseAddress,
        loopback: options.loopback,
      });
      this.#path = null;
      const { hostname, port } = this.#socket.addr as Deno.NetAddr;
      this.#defaultHost = formatHostPort(hostname, port);
    }
    this.addr = this.#socket.addr;
    (options.onListen ?? defaultOnListen)(this.addr);
    this.finished = this.#run();
    if (options.signal?.aborted) this.shutdown();
    else options.signal?.addEventListener("abort", () => this.shutdown(), { once: true });
  }

  /** Counters; `connections` stays 0 (there are none), `requests` counts handler calls. */
  stats(): ServerStats {
    return { ...this.#stats };
  }

  joinMulticastV4(address: string, networkInterface: string): Promise<Deno.MulticastV4Membership> {
    return this.#socket.joinMulticastV4(address, networkInterface);
  }

  async #run(): Promise<void> {
    try {
      await this.#receiveLoop();
    } finally {
      // The socket stays open until the replies in flight are sent (or the grace period ends):
      // closing it first would turn every one of them into a lost datagram.
      let grace: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled(this.#inFlight),
        new Promise((resolve) => grace = setTimeout(resolve, this.#limits.shutdownGracePeriod)),
      ]);
      clearTimeout(grace);
      try {
        this.#socket.close();
      } catch {
        // closed already
      }
      // The port (or path) is free once the receive that was waiting has been cancelled.
      await this.#pendingReceive;
      if (this.#path !== null) {
        try {
          Deno.removeSync(this.#path);
        } catch {
          // removed by someone else
        }
      }
    }
  }

  async #receiveLoop(): Promise<void> {
    // One buffer, one byte larger than the limit: a datagram that fills it was too large (the
    // kernel truncates what does not fit, silently).
    const buffer = new Uint8Array(this.#maxDatagramBytes + 1);
    let failures = 0;
    while (!this.#closing) {
      if (this.#inFlight.size >= this.#maxInFlight) {
        await new Promise<void>((resolve) => this.#slotFreed = resolve);
        continue;
      }
      const pending = this.#socket.receive(buffer);
      let received: [Uint8Array, Deno.Addr] | typeof STOP;
      try {
        received = await Promise.race([pending, this.#stopped()]);
      } catch (error) {
        if (this.#closing || error instanceof Deno.errors.BadResource) return;
        // A receive can fail for one datagram (e.g. an ICMP error queued on the socket) without
        // the socket being broken; a socket that keeps failing is given up after a while.
        if (++failures > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (received === STOP) {
        // Rejected when the socket closes; the socket is released only then (see #run).
        this.#pendingReceive = pending.then(() => {}, () => {});
        return;
      }
      failures = 0;
      const [data, from] = received;
      this.#stats.bytesIn += data.length;
      if (data.length === 0) continue;
      // Charged before parsing: a flood from one address costs a receive and nothing more.
      if (this.#buckets !== null && !this.#buckets.take(sourceKey(from))) continue;
      const task = this.#answer(data.slice(), from);
      this.#track(task);
      // Deno's Unix datagram socket refuses to send while a receive is pending ("Busy"), so
      // there each datagram is answered before the next is received (the kernel queues them).
      if (this.#transport === "unixpacket") await Promise.race([task, this.#stopped()]);
    }
  }

  /**
   * A promise that resolves when shutdown starts. A fresh one for every wait: racing each
   * receive against one long-lived promise would pile a reaction on it per datagram.
   */
  #stopped(): Promise<typeof STOP> {
    return new Promise((resolve) => {
      if (this.#closing) resolve(STOP);
      else this.#wake = () => resolve(STOP);
    });
  }

  #track(task: Promise<void>): void {
    this.#inFlight.add(task);
    task.finally(() => {
      this.#inFlight.delete(task);
      this.#slotFreed?.();
      this.#slotFreed = null;
    });
  }

  /** Parses one datagram, runs the handler, sends the reply (if any). Never throws. */
  async #answer(datagram: Uint8Array<ArrayBuffer>, from: Deno.Addr): Promise<void> {
    let reply: Uint8Array | null;
    const info = new RequestInfo(from, this.#transport);
    info.pending = true;
    /** Whether the handler's own answer (or its choice of none) is what goes back. */
    let answered = true;
    try {
      const { head, request } = parseRequestDatagram(
        datagram,
        this.#limits,
        this.#maxDatagramBytes,
        this.#defaultHost,
      );
      this.#stats.requests++;
      const response = await dispatch(
        this.#handler,
        request,
        info,
        this.#limits.requestTimeout,
        this.#onError,
        isReply,
      );
      reply = response === null
        ? null
        : await encodeReplyDatagram(head, response, this.#maxDatagramBytes);
    } catch (error) {
      reply = encodeError(1, toHttpError(error), false);
      answered = false;
    }
    // An unbound Unix datagram socket has no address to answer to.
    if (reply === null || from.transport === "unixpacket" && !from.path) {
      info.settle(reply === null && answered);
      return;
    }
    try {
      this.#stats.bytesOut += await this.#socket.send(reply, from);
      info.settle(answered);
    } catch {
      // A reply that cannot be sent (peer gone, network unreachable) is a lost datagram: UDP
      // promises nothing more, and the next request must still be answered.
      info.settle(false);
    }
  }

  shutdown(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      this.#wake?.();
      this.#slotFreed?.();
    }
    return this.finished;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

const STOP = Symbol("stop");

function pickLimits(limits: Readonly<Limits>): DatagramLimits {
  const { maxUriBytes, maxHeaderBytes, maxHeaderCount, maxBodyBytes } = limits;
  const { requestTimeout, shutdownGracePeriod } = limits;
  return {
    maxUriBytes,
    maxHeaderBytes,
    maxHeaderCount,
    maxBodyBytes,
    requestTimeout,
    shutdownGracePeriod,
  };
}

function defaultOnListen(addr: Deno.Addr): void {
  if (addr.transport === "udp") {
    console.log(`Listening for HTTP over UDP on ${formatHostPort(addr.hostname, addr.port)}`);
  } else {
    console.log(`Listening for HTTP over Unix datagrams on ${(addr as Deno.UnixAddr).path}`);
  }
}

function toHttpError(error: unknown): HttpError {
  return error instanceof HttpError ? error : new HttpError(500, "Internal Server Error");
}

/** A datagram handler answers with a Response, or null for no reply. */
function isReply(value: unknown): value is Response | null {
  return value === null || value instanceof Response;
}

/**
 * Binds a Unix datagram socket. A socket file already at `path` is refused with a message that
 * says what to do: whether anything still receives on it can only be learnt by sending to it,
 * which is asynchronous, and `serveDatagram()` binds synchronously like `serve()`.
 */
function bindUnixPacket(path: string): Deno.DatagramConn {
  try {
    return Deno.listenDatagram({ transport: "unixpacket", path });
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Deno.errors.AddrInUse(
      `${path} already exists: another server may be receiving on it (if not, remove the file)`,
    );
  }
}
