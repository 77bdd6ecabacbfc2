/**
 * The frames on their way to the socket: written in order, one write at a time, small ones
 * gathered into one write, with the application bytes they carry counted until the socket has
 * taken them (the socket's `bufferedAmount`).
 *
 * A slow reader does not make the writer spin: while a write is pending, frames wait in the queue
 * (held in memory; `bufferedAmount` is what tells the application to slow down), and the next
 * write starts when the socket has taken the last one.
 */
import type { ByteChannel } from "../conn/upgrade.ts";

/** Frames up to this total go out in one write; matches the engine's largest single write. */
export const GATHER_MAX_BYTES = 64 * 1024;

const EMPTY = new Uint8Array(0);
/** The queue drops its written prefix once it is this long and half the queue. */
const COMPACT_AFTER = 1024;

export class FrameWriter {
  readonly #channel: ByteChannel;
  readonly #onError: (error: unknown) => void;
  #frames: Uint8Array[] = [];
  #counts: number[] = [];
  #head = 0;
  #writing = false;
  #failed = false;
  #buffered = 0;
  #idle: (() => void)[] = [];

  /** `onError` hears the first failed write; later frames are dropped. */
  constructor(channel: ByteChannel, onError: (error: unknown) => void) {
    this.#channel = channel;
    this.#onError = onError;
  }

  /** Application bytes queued and not yet taken by the socket. */
  get bufferedAmount(): number {
    return this.#buffered;
  }

  /**
   * Queues `frame`, counting `appBytes` until it is written. The first frame of a burst goes out
   * in a microtask, so the frames queued in the same turn share its write.
   */
  push(frame: Uint8Array, appBytes = 0): void {
    if (this.#failed) return;
    this.#frames.push(frame);
    this.#counts.push(appBytes);
    this.#buffered += appBytes;
    if (!this.#writing) {
      this.#writing = true;
      queueMicrotask(() => void this.#drain().catch((error) => this.#fail(error)));
    }
  }

  /** Settles once every frame queued so far is written, or writing failed. */
  idle(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #drain(): Promise<void> {
    while (this.#head < this.#frames.length && !this.#failed) {
      const [batch, count] = this.#take();
      try {
        await this.#channel.write(batch);
      } catch (error) {
        this.#fail(error);
        break;
      }
      this.#buffered -= count;
    }
    this.#writing = false;
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }

  /** The next write: one frame, or the small frames that follow each other up to the limit. */
  #take(): [Uint8Array, number] {
    const frames = this.#frames;
    let end = this.#head + 1;
    let length = frames[this.#head].length;
    while (end < frames.length && length + frames[end].length <= GATHER_MAX_BYTES) {
      length += frames[end].length;
      end++;
    }
    let batch = frames[this.#head];
    if (end - this.#head > 1) {
      batch = new Uint8Array(length);
      let at = 0;
      for (let i = this.#head; i < end; i++) {
        batch.set(frames[i], at);
        at += frames[i].length;
      }
    }
    let count = 0;
    for (let i = this.#head; i < end; i++) {
      count += this.#counts[i];
      frames[i] = EMPTY; // written frames are not kept alive by the queue
    }
    this.#head = end;
    if (this.#head === frames.length) {
      this.#frames = [];
      this.#counts = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= frames.length) {
      this.#frames = frames.slice(this.#head);
      this.#counts = this.#counts.slice(this.#head);
      this.#head = 0;
    }
    return [batch, count];
  }

  #fail(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#frames = [];
    this.#counts = [];
    this.#head = 0;
    this.#onError(error);
  }
}
