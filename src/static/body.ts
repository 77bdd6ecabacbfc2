/**
 * File bodies: small files read at once (so the server can send head and body in one write),
 * everything else streamed from disk in fixed-size chunks so memory stays flat whatever the size.
 */

/** A piece of a response body: literal bytes, or bytes `first..last` (inclusive) of the file. */
export type BodyPart = Uint8Array<ArrayBuffer> | { first: number; last: number };

/**
 * Files up to this size are read whole into one buffer (so head and body can leave in one write).
 * Above it they are streamed, and memory per in-flight response is bounded by `CHUNK_SIZE`.
 */
export const WHOLE_READ_LIMIT = 64 * 1024;

/**
 * Size of each chunk while streaming: large enough that a 1 MiB file takes four trips through the
 * stream and the socket, small enough that memory per response stays flat.
 */
const CHUNK_SIZE = 256 * 1024;

/**
 * Reads a whole (small) file. A file that shrank since it was stat'ed yields fewer bytes; one
 * that grew is cut at `size` so the body always matches the length announced beforehand.
 * Synchronous, like the rest of the file server's file system calls (see path.ts).
 */
export function readWhole(path: string, size: number): Uint8Array<ArrayBuffer> {
  using file = Deno.openSync(path);
  const buffer = new Uint8Array(size);
  const filled = readInto(file, buffer);
  return filled === size ? buffer : buffer.subarray(0, filled);
}

/** Fills `buffer` from the file's position; returns how many bytes it got (fewer at its end). */
function readInto(file: Deno.FsFile, buffer: Uint8Array): number {
  let filled = 0;
  while (filled < buffer.length) {
    const n = file.readSync(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return filled;
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

function* streamParts(path: string, parts: readonly BodyPart[]) {
  using file = Deno.openSync(path);
  let position = 0;
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      yield part;
      continue;
    }
    if (part.first !== position) file.seekSync(part.first, Deno.SeekMode.Start);
    let remaining = part.last - part.first + 1;
    position = part.last + 1;
    while (remaining > 0) {
      // A new array per chunk: the consumer may keep chunks (response.arrayBuffer() does).
      const chunk = new Uint8Array(Math.min(CHUNK_SIZE, remaining));
      const n = readInto(file, chunk);
      if (n < chunk.length) throw new Error("file shrank while it was being sent");
      remaining -= n;
      yield chunk;
    }
  }
}
