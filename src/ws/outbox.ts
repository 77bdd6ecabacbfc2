/**
 * Messages on their way out, in the order `send` was called: framed at once when nothing waits,
 * or queued behind a send that takes a turn in an async step (a compression, a Blob's bytes), so
 * that a small message never overtakes a large compressed one.
 */
import { type DeflateParams, MessageDeflater } from "./deflate.ts";
import { encodeFrame, encodeTextFrame, OP_BINARY, OP_TEXT } from "./frame.ts";
import type { FrameWriter } from "./writer.ts";

/** A send waiting its turn: a message, or a frame already made (the close frame). */
type Outgoing = { opcode: number; data: Uint8Array | Blob; appBytes: number } | Uint8Array;

const textEncoder = new TextEncoder();

export class Outbox {
  readonly #writer: FrameWriter;
  readonly #deflate: DeflateParams | null;
  readonly #threshold: number;
  readonly #onError: (error: unknown) => void;
  #deflater: MessageDeflater | null = null;
  #queue: Outgoing[] = [];
  #queuedBytes = 0;
  #pumping = false;
  #closed = false;

  /** `onError` hears a failure of the async step (not a closed connection's). */
  constructor(
    writer: FrameWriter,
    deflate: DeflateParams | null,
    threshold: number,
    onError: (error: unknown) => void,
  ) {
    this.#writer = writer;
    this.#deflate = deflate;
    this.#threshold = threshold;
    this.#onError = onError;
  }

  /** Application bytes sent and not yet taken by the socket. */
  get bufferedAmount(): number {
    return this.#writer.bufferedAmount + this.#queuedBytes;
  }

  text(text: string): void {
    if (this.#deflate === null && this.#queue.length === 0) {
      const frame = encodeTextFrame(text);
      this.#writer.push(frame, frame.length - frameHeaderSize(frame));
      return;
    }
    const bytes = textEncoder.encode(text);
    this.#message(OP_TEXT, bytes, bytes.length);
  }

  /** `bytes` is the caller's: framed (copied) now, or copied into the queue. */
  binary(bytes: Uint8Array): void {
    if (this.#queue.length === 0 && !this.#compresses(bytes.length)) {
      this.#writer.push(encodeFrame(OP_BINARY, bytes), bytes.length);
      return;
    }
    this.#enqueue({ opcode: OP_BINARY, data: bytes.slice(), appBytes: bytes.length });
  }

  blob(blob: Blob): void {
    this.#enqueue({ opcode: OP_BINARY, data: blob, appBytes: blob.size });
  }

  /** A control frame that must follow the messages sent so far (the close frame). */
  frame(frame: Uint8Array): void {
    if (this.#queue.length === 0) this.#writer.push(frame);
    else this.#enqueue(frame);
  }

  /** Drops what waits in the queue (the connection is closing) and the compressor. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#deflater?.close();
    this.#deflater = null;
  }

  #compresses(length: number): boolean {
    return this.#deflate !== null && length >= this.#threshold;
  }

  #message(opcode: number, bytes: Uint8Array, appBytes: number): void {
    if (this.#queue.length === 0 && !this.#compresses(bytes.length)) {
      this.#writer.push(encodeFrame(opcode, bytes), appBytes);
    } else this.#enqueue({ opcode, data: bytes, appBytes });
  }

  #enqueue(item: Outgoing): void {
    if (this.#closed) return;
    this.#queue.push(item);
    if (!(item instanceof Uint8Array)) this.#queuedBytes += item.appBytes;
    if (this.#pumping) return;
    this.#pumping = true;
    this.#pump().catch((error) => {
      if (!this.#closed) this.#onError(error);
    });
  }

  /** Frames the queue in order, awaiting each compression or Blob read. */
  async #pump(): Promise<void> {
    try {
      await this.#frameQueue();
    } finally {
      this.#pumping = false; // in the turn the queue is found empty: a later send starts anew
    }
  }

  async #frameQueue(): Promise<void> {
    while (this.#queue.length > 0 && !this.#closed) {
      const item = this.#queue[0];
      if (item instanceof Uint8Array) {
        this.#queue.shift();
        this.#writer.push(item);
        continue;
      }
      let data = item.data instanceof Blob
        ? new Uint8Array(await item.data.arrayBuffer())
        : item.data;
      let rsv1 = false;
      if (this.#compresses(data.length) && !this.#closed) {
        this.#deflater ??= new MessageDeflater(this.#deflate!);
        data = await this.#deflater.compress(data);
        rsv1 = true;
      }
      if (this.#closed) return;
      this.#queue.shift();
      this.#queuedBytes -= item.appBytes;
      this.#writer.push(encodeFrame(item.opcode, data, { rsv1 }), item.appBytes);
    }
  }
}

/** The header length of an encoded (unmasked) frame. */
function frameHeaderSize(frame: Uint8Array): number {
  const length7 = frame[1] & 0x7f;
  return length7 < 126 ? 2 : length7 === 126 ? 4 : 10;
}
