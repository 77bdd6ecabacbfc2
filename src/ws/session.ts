/**
 * One WebSocket connection's protocol after the handshake (RFC 6455 §5–7), over a `ByteChannel`:
 * reading frames into messages, answering pings, sending messages in order (compressed ones and
 * Blobs take a turn in an async queue), the closing handshake, the idle ping and the timeouts.
 *
 * Closing, by who starts it:
 * - the peer's close frame is answered with one echoing its code; once written, the server closes
 *   the TCP connection (RFC 6455 §7.1.1: the server closes first);
 * - `close()` (and the server's shutdown, with 1001) sends a close frame, drops the data that
 *   still arrives, and closes the connection when the peer's close frame comes back, or after
 *   `closeTimeoutMs`;
 * - a protocol error fails the connection: the error is reported, a close frame with the code
 *   (1002, 1007, 1009) goes out, and the connection is closed when the peer answers (frames are
 *   then only skipped, not judged), ends, or after `closeTimeoutMs`. Waiting for the answer, rather
 *   than closing at once with unread bytes buffered (which resets the connection), lets the peer
 *   read the close frame.
 */
import type { ByteChannel } from "../conn/upgrade.ts";
import { repeatEvery, runAfter } from "../deno/timer.ts";
import { type DeflateParams, InflateLimitError, MessageInflater } from "./deflate.ts";
import {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_INVALID_DATA,
  CLOSE_NO_STATUS,
  CLOSE_TOO_BIG,
  closePayload,
  encodeFrame,
  type Frame,
  frameExtent,
  OP_CLOSE,
  OP_PING,
  OP_PONG,
  parseFrame,
} from "./frame.ts";
import {
  type Failure,
  failure,
  type Message,
  MessageAssembler,
  parseClosePayload,
} from "./message.ts";
import { Outbox } from "./outbox.ts";
import { FrameWriter } from "./writer.ts";

export interface SessionOptions {
  /** The largest message accepted, after inflation; larger ones close with 1009. */
  maxMessageBytes: number;
  /** Quiet time after which a ping goes out, and as long again for any answer; 0 never pings. */
  pingAfterMs: number;
  /** How long the closing handshake may take before the connection is closed regardless. */
  closeTimeoutMs: number;
  /** The negotiated permessage-deflate, or null. */
  deflate: DeflateParams | null;
  /** Messages shorter than this many bytes are sent uncompressed. */
  compressThreshold: number;
}

export interface SessionEvents {
  message(data: Message): void;
  error(message: string): void;
  /** Once, when the TCP connection is done with. */
  closed(code: number, reason: string, wasClean: boolean): void;
}

export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/**
 * A partial frame's buffer is dropped, rather than kept for the next, above this size: room for
 * a 64 KiB message's frame with its header (65,546 bytes), so that a peer sending such messages
 * reuses one buffer instead of growing a new one (4 KiB, 8 KiB, … 64 KiB) for each.
 */
const KEEP_BUFFER_MAX = 128 * 1024;
/** The smallest partial-frame buffer. */
const MIN_BUFFER_BYTES = 4096;
const EMPTY = new Uint8Array(0);

export class Session {
  state = OPEN;
  readonly #channel: ByteChannel;
  readonly #options: SessionOptions;
  readonly #events: SessionEvents;
  readonly #writer: FrameWriter;
  readonly #assembler: MessageAssembler;
  readonly #rules: { masked: boolean; rsv1: boolean; maxPayload: number };
  readonly #outbox: Outbox;
  #inflater: MessageInflater | null = null;
  #closeSent = false;
  #failed: Failure | null = null;
  /** Bytes still to drop of a frame skipped after a failure. */
  #discard = 0;
  #buffer: Uint8Array | null = null;
  #buffered = 0;
  #needed = 0;
  #heard = true;
  #pingSent = false;
  #stopPings: (() => void) | null = null;
  #stopCloseTimer: (() => void) | null = null;
  /** How the connection ends, once decided; the channel closes once queued frames are out. */
  #outcome: { code: number; reason: string; wasClean: boolean } | null = null;

  constructor(channel: ByteChannel, options: SessionOptions, events: SessionEvents) {
    this.#channel = channel;
    this.#options = options;
    this.#events = events;
    this.#writer = new FrameWriter(channel, () => this.#peerEnded());
    this.#outbox = new Outbox(this.#writer, options.deflate, options.compressThreshold, (error) => {
      console.error("sockserve: WebSocket send failed:", error);
      this.#finish(CLOSE_ABNORMAL, "", false);
    });
    this.#assembler = new MessageAssembler(options.maxMessageBytes);
    this.#rules = { masked: true, rsv1: options.deflate !== null, maxPayload: 0 };
  }

  /** Starts reading, the idle pings, and listening for the server's shutdown. */
  start(): void {
    this.#channel.onShutdown = () => this.close(CLOSE_GOING_AWAY, "");
    if (this.#options.pingAfterMs > 0) {
      this.#stopPings = repeatEvery(this.#options.pingAfterMs, () => this.#idleTick());
    }
    this.#readLoop().catch((error) => {
      console.error("sockserve: WebSocket read loop failed:", error);
      this.#finish(CLOSE_ABNORMAL, "", false);
    });
  }

  get bufferedAmount(): number {
    return this.#outbox.bufferedAmount;
  }

  /** Sends a text message (`send` checked the state). */
  sendText(text: string): void {
    this.#outbox.text(text);
  }

  /** Sends a binary message; `bytes` is the caller's and is framed or copied now. */
  sendBinary(bytes: Uint8Array): void {
    this.#outbox.binary(bytes);
  }

  sendBlob(blob: Blob): void {
    this.#outbox.blob(blob);
  }

  /** Starts the closing handshake with `code` (none: an empty close frame). */
  close(code: number | undefined, reason: string): void {
    if (this.state !== OPEN) return;
    this.state = CLOSING;
    this.#closeSent = true;
    this.#outbox.frame(encodeFrame(OP_CLOSE, closePayload(code, reason)));
    this.#startCloseTimer();
  }

  async #readLoop(): Promise<void> {
    while (this.#outcome === null) {
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#channel.read();
      } catch {
        chunk = null; // a reset reads as the end
      }
      if (this.#outcome !== null) return;
      if (chunk === null) return this.#peerEnded();
      this.#heard = true;
      const waiting = this.#receive(chunk);
      if (waiting !== undefined) await waiting;
    }
  }

  /** Parses what `chunk` completes; a promise while a compressed fragment is inflated. */
  #receive(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#discard > 0) {
      const dropped = Math.min(this.#discard, chunk.length);
      this.#discard -= dropped;
      chunk = chunk.subarray(dropped);
    }
    if (this.#buffered === 0) return this.#parse(chunk, 0, chunk.length);
    const length = this.#buffered + chunk.length;
    const buffer = this.#room(length, this.#buffered);
    buffer.set(chunk, this.#buffered);
    this.#buffered = 0;
    return this.#parse(buffer, 0, length);
  }

  #parse(bytes: Uint8Array, start: number, end: number): Promise<void> | undefined {
    while (start < end && this.#outcome === null) {
      if (this.#failed !== null) return void this.#skip(bytes, start, end, false);
      this.#rules.maxPayload = this.#assembler.remaining;
      const parsed = parseFrame(bytes, start, end, this.#rules);
      if (parsed.kind === "incomplete") return void this.#keep(bytes, start, end, parsed.needed);
      if (parsed.kind === "error") {
        this.#fail(failure(parsed.code, parsed.reason));
        return void this.#skip(bytes, start, end, true); // from the offending frame on
      }
      start += parsed.consumed;
      const waiting = this.#onFrame(parsed.frame);
      if (waiting !== undefined) return waiting.then(() => this.#parse(bytes, start, end));
    }
    this.#buffered = 0;
    if (this.#buffer !== null && this.#buffer.length > KEEP_BUFFER_MAX) this.#buffer = null;
  }

  /** Keeps the partial frame at `bytes[start..end)` for the next read. */
  #keep(bytes: Uint8Array, start: number, end: number, needed: number): void {
    this.#needed = needed;
    if (bytes === this.#buffer) bytes.copyWithin(0, start, end);
    else this.#room(end - start, 0).set(bytes.subarray(start, end));
    this.#buffered = end - start;
  }

  /**
   * The partial-frame buffer with room for `length` bytes, its first `keep` kept. It grows by
   * doubling toward the frame's announced size, so a peer that announces a large frame and sends
   * it slowly holds about what it sent, not what it announced.
   */
  #room(length: number, keep: number): Uint8Array {
    const current = this.#buffer;
    if (current !== null && current.length >= length) return current;
    const doubled = Math.max(length, (current?.length ?? 0) * 2, MIN_BUFFER_BYTES);
    const grown = new Uint8Array(Math.min(doubled, Math.max(this.#needed, length)));
    if (current !== null && keep > 0) grown.set(current.subarray(0, keep));
    this.#buffer = grown;
    return grown;
  }

  /**
   * After a failure: skips frames without judging them (the first being the offending one when
   * `offending`), until the peer's close frame.
   */
  #skip(bytes: Uint8Array, start: number, end: number, offending: boolean): void {
    while (start < end && this.#outcome === null) {
      const extent = frameExtent(bytes, start, end);
      if (extent.kind === "incomplete") {
        if (!offending && (extent.opcode === OP_CLOSE || extent.opcode === -1)) {
          return this.#keep(bytes, start, end, extent.needed);
        }
        this.#discard = start + extent.needed - end; // the rest is dropped, not buffered
        break;
      }
      if (extent.opcode === OP_CLOSE && !offending) {
        const failed = this.#failed!;
        return this.#finish(failed.code, failed.reason, false, true);
      }
      offending = false;
      start += extent.consumed;
    }
    this.#buffered = 0;
  }

  #onFrame(frame: Frame): Promise<void> | undefined {
    switch (frame.opcode) {
      case OP_PING:
        if (!this.#closeSent) this.#writer.push(encodeFrame(OP_PONG, frame.payload));
        return;
      case OP_PONG:
        this.#pingSent = false;
        return;
      case OP_CLOSE: {
        const close = parseClosePayload(frame.payload);
        if (close.kind === "failure") this.#fail(close);
        else this.#closeReceived(close.code, close.reason);
        return;
      }
    }
    if (this.#closeSent) return; // data after our close frame is dropped (RFC 6455 §1.4)
    const started = this.#assembler.begin(frame);
    if (started.kind === "failure") return void this.#fail(started);
    if (started.compressed) return this.#inflate(frame);
    this.#deliver(this.#assembler.append(frame.payload, frame.fin));
  }

  async #inflate(frame: Frame): Promise<void> {
    this.#inflater ??= new MessageInflater();
    let bytes: Uint8Array;
    try {
      bytes = await this.#inflater.inflate(frame.payload, frame.fin, this.#assembler.remaining);
    } catch (error) {
      if (error instanceof InflateLimitError) this.#fail(failure(CLOSE_TOO_BIG, error.message));
      else this.#fail(failure(CLOSE_INVALID_DATA, `compressed message does not inflate`));
      return;
    }
    if (!this.#closeSent) this.#deliver(this.#assembler.append(bytes, frame.fin));
  }

  #deliver(result: Message | Failure | null): void {
    if (result === null) return;
    if (typeof result === "string" || result instanceof ArrayBuffer) this.#events.message(result);
    else this.#fail(result);
  }

  #closeReceived(code: number, reason: string): void {
    if (this.#closeSent) {
      const failed = this.#failed;
      if (failed !== null) return this.#finish(failed.code, failed.reason, false, true);
      return this.#finish(code, reason, true, true);
    }
    this.state = CLOSING;
    this.#closeSent = true;
    this.#outbox.close();
    this.#writer.push(
      encodeFrame(OP_CLOSE, closePayload(code === CLOSE_NO_STATUS ? undefined : code)),
    );
    this.#finish(code, reason, true, true);
  }

  /** Fails the connection (RFC 6455 §7.1.7) with `failure`'s code. */
  #fail(cause: Failure): void {
    if (this.#outcome !== null) return;
    if (this.#closeSent) return this.#finish(cause.code, cause.reason, false, true);
    this.#failed = cause;
    this.state = CLOSING;
    this.#closeSent = true;
    this.#outbox.close();
    this.#events.error(cause.reason);
    this.#writer.push(
      encodeFrame(OP_CLOSE, closePayload(cause.code, truncateReason(cause.reason))),
    );
    this.#startCloseTimer();
  }

  /** The peer ended the connection (or a read or write failed) with no closing handshake done. */
  #peerEnded(): void {
    if (this.#outcome !== null) return;
    if (this.#failed !== null) return this.#finish(this.#failed.code, this.#failed.reason, false);
    if (!this.#closeSent) this.#events.error("the connection ended without a close frame");
    this.#finish(CLOSE_ABNORMAL, "", false);
  }

  #idleTick(): void {
    if (this.state !== OPEN) return;
    if (this.#heard) {
      this.#heard = false;
      this.#pingSent = false;
    } else if (!this.#pingSent) {
      this.#pingSent = true;
      this.#writer.push(encodeFrame(OP_PING, EMPTY));
    } else {
      const reason = "No response from ping frame.";
      this.#fail(failure(CLOSE_GOING_AWAY, reason));
      // The peer is gone: its close frame is not awaited, only the write of ours.
      this.#finish(CLOSE_GOING_AWAY, reason, false, true);
    }
  }

  /**
   * Bounds the closing handshake: when it runs out, the connection is closed as it stands. An
   * outcome decided already stands; else a failed connection keeps its code and an unanswered
   * close() is abnormal (1006).
   */
  #startCloseTimer(): void {
    this.#stopCloseTimer ??= runAfter(this.#options.closeTimeoutMs, () => {
      this.#stopCloseTimer = null;
      const failed = this.#failed;
      if (failed !== null) this.#finish(failed.code, failed.reason, false);
      else this.#finish(CLOSE_ABNORMAL, "", false);
      this.#release();
    });
  }

  /**
   * Decides how the connection ends (the first decision stands) and closes it: at once, or with
   * `flush` once the queued frames (our close frame) are written, within the close timer.
   */
  #finish(code: number, reason: string, wasClean: boolean, flush = false): void {
    if (this.#outcome !== null) return;
    this.#outcome = { code, reason, wasClean };
    this.#stopPings?.();
    this.#outbox.close();
    if (!flush) return this.#release();
    this.#startCloseTimer();
    this.#writer.idle().then(() => this.#release());
  }

  /** Closes the connection and reports the close, once. */
  #release(): void {
    const outcome = this.#outcome;
    if (this.state === CLOSED || outcome === null) return;
    this.state = CLOSED;
    this.#stopCloseTimer?.();
    this.#stopCloseTimer = null;
    this.#channel.onShutdown = null;
    this.#inflater?.close();
    this.#buffer = null;
    this.#channel.close();
    this.#events.closed(outcome.code, outcome.reason, outcome.wasClean);
  }
}

/** A reason cut to the 123 bytes a close frame has room for (ours are ASCII). */
function truncateReason(reason: string): string {
  return reason.length <= 123 ? reason : reason.slice(0, 123);
}
