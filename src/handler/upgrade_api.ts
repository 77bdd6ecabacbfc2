/**
 * `upgrade(request, { protocol })`: switching a connection to any protocol a client asks for
 * with `Upgrade` (RFC 9110 §7.8), as raw byte streams. The handler returns the 101 `Response`; once
 * the connection loop has written it, `socket` gives the connection's bytes — first those the
 * client sent right after its request — and takes the bytes to send back.
 *
 * ```ts
 * serve((request) => {
 *   const { response, socket } = upgrade(request, { protocol: "echo" });
 *   socket.then(({ readable, writable }) => readable.pipeTo(writable));
 *   return response;
 * });
 * ```
 */
import { type ByteChannel, claimUpgrade } from "../conn/upgrade.ts";

export interface UpgradeOptions {
  /** The protocol switched to: one the request's `Upgrade` field names (case-insensitively). */
  protocol: string;
  /** More fields for the 101 (`Upgrade` and `Connection` are the engine's). */
  headers?: HeadersInit;
}

/** The connection after the 101. */
export interface UpgradedSocket {
  /** The client's bytes; it ends when the client closes its side (or the connection closes). */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the client; closing or aborting it closes the connection. */
  writable: WritableStream<Uint8Array>;
  /** Closes the connection now. */
  close(): void;
}

export interface Upgrade {
  /** The 101 the handler returns (as is: a copy is not an upgrade). */
  response: Response;
  /**
   * The connection, once the 101 is written. Never settles if the response is not sent (the
   * handler returned another, or the client left first).
   */
  socket: Promise<UpgradedSocket>;
}

/**
 * Accepts the request's upgrade to `protocol`. Throws a TypeError when the request does not ask
 * for it: an `Upgrade` field naming the protocol, and `Connection: upgrade`.
 */
export function upgrade(request: Request, options: UpgradeOptions): Upgrade {
  const protocol = options.protocol;
  const wanted = protocol.toLowerCase();
  const offered = tokens(request.headers.get("upgrade"));
  if (!offered.some((token) => token === wanted || token.startsWith(`${wanted}/`))) {
    throw new TypeError(
      `the request does not ask to upgrade to "${protocol}" (Upgrade: ${
        request.headers.get("upgrade") ?? "none"
      })`,
    );
  }
  if (!tokens(request.headers.get("connection")).includes("upgrade")) {
    throw new TypeError('an upgrade needs "Connection: upgrade" in the request');
  }
  const headers = new Headers(options.headers);
  headers.set("upgrade", protocol);
  const response = new Response(null, { status: 101, headers });
  const socket = Promise.withResolvers<UpgradedSocket>();
  claimUpgrade(response, (channel) => socket.resolve(streamsOf(channel)));
  return { response, socket: socket.promise };
}

/** A field's comma-separated tokens, lower-cased. */
function tokens(value: string | null): string[] {
  if (value === null) return [];
  return value.split(",").map((token) => token.trim().toLowerCase()).filter((t) => t !== "");
}

function streamsOf(channel: ByteChannel): UpgradedSocket {
  const readable = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const bytes = await channel.read();
      // Copied: the channel's view is valid until its next read only.
      if (bytes === null) controller.close();
      else controller.enqueue(bytes.slice());
    },
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => channel.write(chunk),
    close: () => channel.close(),
    abort: () => channel.close(),
  });
  return { readable, writable, close: () => channel.close() };
}
