/**
 * File bodies: small files read at once (so the server can send head and body in one write),
 * everything else streamed from disk in fixed-size chunks so memory stays flat whatever the size.
 */

/** A piece of a response body: literal bytes, or bytes `first..last` (inclusive) of the file. */
export type BodyPart = Uint8Array<ArrayBuffer> | { first: number; last: number };

/**
 * Files up to this size are read whole into one buffer. Above it they are streamed; at this size
 * the memory per in-flight response is bounded by the same number either way.
 */
export const WHOLE_READ_LIMIT = 64 * 1024;

/** Size of each read while streaming: large enough for few syscalls, small enough to stay flat. */
const CHUNK_SIZE = 64 * 1024;

/**
 * Reads a whole (small) file. A file that shrank since it was stat'ed yields fewer bytes; one
 * that grew is cut at `size` so the body always matches the length announced beforehand.
 */
export async function readWhole(path: string, size: number): Promise<Uint8Array<ArrayBuffer>> {
  using file = await Deno.open(path);
  const buffer = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled === size ? buffer : buffer.subarray(0, filled);
}

/**
 * A stream of the given parts of a file. The file is opened on the first read and closed at the
 * end or when the consumer cancels (a client that went away), so a response that is never sent
 * holds no file handle. A file cut short while streaming ends the stream with an error, so the
 * server closes the connection instead of sending fewer bytes than its Content-Length promised.
 */
export function fileStream(
  path: string,
  parts: readonly BodyPart[],
): ReadableStream<Uint8Array<ArrayBuffer>> {
  return ReadableStream.from(streamParts(path, parts));
}

async function* streamParts(path: string, parts: readonly BodyPart[]) {
  using file = await Deno.open(path);
  let position = 0;
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      yield part;
      continue;
    }
    if (part.first !== position) await file.seek(part.first, Deno.SeekMode.Start);
    let remaining = part.last - part.first + 1;
    position = part.last + 1;
    while (remaining > 0) {
      const chunk = new Uint8Array(Math.min(CHUNK_SIZE, remaining));
      const n = await file.read(chunk);
      if (n === null) throw new Error("file shrank while it was being sent");
      remaining -= n;
      yield n === chunk.length ? chunk : chunk.subarray(0, n);
    }
  }
}
