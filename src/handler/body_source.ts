/**
 * Response bodies the engine can send without their `ReadableStream`.
 *
 * A handler that knows what its body is — the file server: these bytes, or bytes `first..last` of
 * that file — labels its `Response` with `labelBody`. The Response keeps its ordinary body, so it
 * behaves the same under Deno.serve or in a test; the engine, seeing the label, reads the bytes
 * straight from their source: no stream, no promise per chunk, and for files one reused buffer
 * instead of a new array per chunk (allocating those was 19% of the 1 MiB static profile). Once
 * the Response's own body has been used (a wrapper read it), the label no longer counts.
 */
import { lingering } from "../deno/socket.ts";

export type KnownBody =
  | { kind: "bytes"; bytes: Uint8Array }
  /** Bytes `first..last` (inclusive) of the file at `path`, which had `last + 1` bytes or more. */
  | { kind: "file"; path: string; first: number; last: number };

const labels = new WeakMap<Response, KnownBody>();

/** Tells the engine what `response`'s body holds; returns the response. */
export function labelBody(response: Response, body: KnownBody): Response {
  labels.set(response, body);
  return response;
}

/** The label of `response`, unless its body was used since. */
export function knownBody(response: Response): KnownBody | null {
  const body = labels.get(response);
  return body === undefined || response.bodyUsed ? null : body;
}

/** The byte length of a known body. */
export function knownLength(body: KnownBody): number {
  return body.kind === "bytes" ? body.bytes.length : body.last - body.first + 1;
}

/** The part of a stream reader the engine uses to send a body. */
export interface BodyReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(): Promise<void>;
}

/** Size of each read of a file body, and of the reused buffers. */
const FILE_CHUNK_BYTES = 256 * 1024;
/** Buffers kept for reuse when no response is using them. */
const MAX_SPARE_BUFFERS = 8;
const spareBuffers: Uint8Array[] = [];

const DONE: ReadableStreamReadResult<Uint8Array> = Object.freeze({ done: true, value: undefined });

/**
 * Reads a file body chunk by chunk into one buffer: each chunk is valid until the next `read`,
 * so the caller must have written it by then (the engine does). A file that turns out shorter
 * than announced fails the read, and the engine closes the connection rather than send less
 * than its Content-Length promised.
 */
export class FileBodyReader implements BodyReader {
  #file: Deno.FsFile | null;
  #left: number;
  #buffer: Uint8Array | null = null;

  /** Opens the file now, so a file that vanished fails before anything is written. */
  constructor(body: Extract<KnownBody, { kind: "file" }>) {
    this.#file = Deno.openSync(body.path);
    this.#left = body.last - body.first + 1;
    if (body.first > 0) this.#file.seekSync(body.first, Deno.SeekMode.Start);
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    try {
      return Promise.resolve(this.#readSync());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #readSync(): ReadableStreamReadResult<Uint8Array> {
    if (this.#left === 0 || this.#file === null) return DONE;
    this.#buffer ??= spareBuffers.pop() ?? new Uint8Array(FILE_CHUNK_BYTES);
    const want = Math.min(this.#left, this.#buffer.length);
    let filled = 0;
    while (filled < want) {
      const n = this.#file.readSync(this.#buffer.subarray(filled, want));
      if (n === null) throw new Error("file shrank while it was being sent");
      filled += n;
    }
    this.#left -= filled;
    return { done: false, value: this.#buffer.subarray(0, filled) };
  }

  cancel(): Promise<void> {
    this.#file?.close();
    this.#file = null;
    // One a closed socket's write still holds is never reused (src/deno/socket.ts).
    if (
      this.#buffer !== null && spareBuffers.length < MAX_SPARE_BUFFERS && !lingering(this.#buffer)
    ) {
      spareBuffers.push(this.#buffer);
    }
    this.#buffer = null;
    return Promise.resolve();
  }
}

/** A reader with nothing (more) to read: what is left of a bytes body once its bytes are out. */
export const EMPTY_READER: BodyReader = {
  read: () => Promise.resolve(DONE),
  cancel: () => Promise.resolve(),
};
