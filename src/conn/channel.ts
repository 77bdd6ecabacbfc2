/**
 * The `ByteChannel` (conn/upgrade.ts) a connection hands to the protocol that claimed its 101:
 * the connection's own reader, which starts with the bytes buffered after the request head, and
 * its writer, over the same socket. The connection stays open and counted until the channel
 * closes.
 */
import type { BufferedReader } from "../io/reader.ts";
import type { BufferedWriter } from "../io/writer.ts";
import { isPeerError } from "./peer_errors.ts";
import type { ByteChannel } from "./upgrade.ts";

export class ConnectionChannel implements ByteChannel {
  #reader: BufferedReader;
  #writer: BufferedWriter;
  #closeSocket: () => void;
  #closed = false;
  #resolveClosed!: () => void;
  /** The last write queued: writes leave one after the other, whole. */
  #tail: Promise<void> = Promise.resolve();
  readonly closed: Promise<void> = new Promise((resolve) => this.#resolveClosed = resolve);
  onShutdown: (() => void) | null = null;

  /** A read the connection started before the hand-over, whose bytes come first. */
  #pending: Promise<number | null> | null;

  /**
   * `closeSocket` closes the connection, which then calls `closedBySocket`; `pending` is a read
   * of `reader` already in flight (see `BufferedReader.startRead`), or null.
   */
  constructor(
    reader: BufferedReader,
    writer: BufferedWriter,
    closeSocket: () => void,
    pending: Promise<number | null> | null,
  ) {
    this.#reader = reader;
    this.#writer = writer;
    this.#closeSocket = closeSocket;
    this.#pending = pending;
  }

  /**
   * The bytes buffered, or the next ones the socket gives; null once the peer has closed its
   * side, or once the channel is closed (a read it cut short included).
   */
  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    try {
      const pending = this.#pending;
      if (pending !== null) {
        this.#pending = null;
        if (this.#reader.filled(await pending) === null) return null;
      }
      return await this.#reader.readSome(Infinity);
    } catch (error) {
      if (this.#closed) return null;
      if (isPeerError(error)) {
        // A reset: the connection is over for both sides.
        this.close();
        return null;
      }
      throw error;
    }
  }

  write(bytes: Uint8Array): Promise<void> {
    const sent = this.#tail.then(() => this.#send(bytes));
    this.#tail = sent.catch(() => {});
    return sent;
  }

  async #send(bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new Deno.errors.BadResource("the upgraded connection is closed");
    await this.#writer.push(bytes);
    await this.#writer.flush();
  }

  close(): void {
    this.#closeSocket();
  }

  /** Called by the connection once its socket is closed, by whichever side. */
  closedBySocket(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resolveClosed();
  }

  /** The server shuts down: the protocol may say goodbye before the grace period ends. */
  shutdown(): void {
    const onShutdown = this.onShutdown;
    if (onShutdown === null) return;
    try {
      onShutdown();
    } catch (error) {
      console.error("sockserve: an upgraded protocol failed at shutdown:", error);
    }
  }
}
