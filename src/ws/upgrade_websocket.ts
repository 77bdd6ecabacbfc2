/**
 * `upgradeWebSocket(request, options?)`: `Deno.upgradeWebSocket`'s shape on sockserve's own
 * connection.
 *
 * It checks the request (handshake.ts), builds the 101 `Response` with the handshake's fields and
 * claims it (conn/upgrade.ts): the connection loop writes that 101, stops reading HTTP and hands
 * the connection to the socket, which opens. `Deno.upgradeWebSocket` makes its 101 with an
 * internal (`newInnerResponse(101)`); the public `Response` constructor takes 101 too (Deno 2.8
 * and 2.9 accept 101 besides 200–599), and that is what this builds.
 */
import { claimUpgrade } from "../conn/upgrade.ts";
import type { DeflateParams } from "./deflate.ts";
import { checkHandshake } from "./handshake.ts";
import type { SessionOptions } from "./session.ts";
import { attachChannel, rejectSocket, ServerWebSocket } from "./socket.ts";

/** Seconds between pings before the peer is considered gone; Deno's default. */
export const DEFAULT_IDLE_TIMEOUT = 30;
/** The largest message accepted (after inflation), in bytes; larger ones close with 1009. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Seconds the closing handshake may take before the connection is closed regardless. */
export const DEFAULT_CLOSE_TIMEOUT = 5;
/**
 * Messages shorter than this many bytes are sent uncompressed. Below about a kilobyte a frame fits
 * in one TCP segment (1460 bytes on Ethernet) compressed or not, so compressing saves no packet
 * and costs a trip through zlib; the `ws` package draws the line at the same place.
 */
export const DEFAULT_COMPRESS_THRESHOLD = 1024;

export interface UpgradeWebSocketOptions {
  /** The subprotocol to select; it must be one the client offers (else `TypeError`, as Deno). */
  protocol?: string;
  /**
   * Seconds of silence after which the peer is considered gone: after half of it a ping goes
   * out, and without an answer in the other half the socket closes with 1001. 0 turns it off.
   * Default 30, as Deno's.
   */
  idleTimeout?: number;
  /** The largest message accepted, in bytes (after inflation); default 64 MiB, above it 1009. */
  maxMessageBytes?: number;
  /**
   * permessage-deflate (RFC 7692): offered by browsers, on by default for messages of at least
   * `threshold` bytes (default 1024); `false` turns it off.
   */
  compression?: boolean | { threshold?: number };
  /** Seconds the closing handshake may take before the connection is closed; default 5. */
  closeTimeout?: number;
}

export interface WebSocketUpgrade {
  socket: ServerWebSocket;
  /** The handler returns this: the 101, or 400/426 when the handshake is refused. */
  response: Response;
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number of seconds, not less than 0`);
  }
  return value;
}

function sessionOptions(
  options: UpgradeWebSocketOptions,
  deflate: DeflateParams | null,
): SessionOptions {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 0) {
    throw new TypeError("maxMessageBytes must be a whole number of bytes");
  }
  const compression = options.compression;
  const threshold = typeof compression === "object"
    ? compression.threshold ?? DEFAULT_COMPRESS_THRESHOLD
    : DEFAULT_COMPRESS_THRESHOLD;
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw new TypeError("compression.threshold must be a whole number of bytes");
  }
  return {
    maxMessageBytes,
    pingAfterMs: seconds(options.idleTimeout, DEFAULT_IDLE_TIMEOUT, "idleTimeout") * 500,
    closeTimeoutMs: seconds(options.closeTimeout, DEFAULT_CLOSE_TIMEOUT, "closeTimeout") * 1000,
    deflate,
    compressThreshold: threshold,
  };
}

/**
 * Upgrades `request` to a WebSocket. Throws `TypeError` where `Deno.upgradeWebSocket` does (no
 * `Upgrade: websocket`, no `Connection: upgrade`, no key, a protocol the client did not offer);
 * answers 426 for a version other than 13 and 400 for a bad key or a method other than GET, with
 * a socket that never opens (its `error` and `close` events follow).
 */
export function upgradeWebSocket(
  request: Request,
  options: UpgradeWebSocketOptions = {},
): WebSocketUpgrade {
  const handshake = checkHandshake(request.method, request.headers, {
    protocol: options.protocol,
    compression: options.compression !== false,
  });
  if (handshake.kind === "reject") {
    const socket = new ServerWebSocket(sessionOptions(options, null), "", "");
    rejectSocket(socket, handshake.message.trim());
    const response = new Response(handshake.message, {
      status: handshake.status,
      headers: handshake.headers,
    });
    return { socket, response };
  }
  const socket = new ServerWebSocket(
    sessionOptions(options, handshake.deflate?.params ?? null),
    handshake.protocol,
    handshake.deflate?.response ?? "",
  );
  const response = new Response(null, { status: 101, headers: handshake.headers });
  claimUpgrade(response, (channel) => attachChannel(socket, channel));
  return { socket, response };
}
