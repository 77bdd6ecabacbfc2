/**
 * Content codings for file responses (RFC 9110 §8.4.1): which codings the server offers, the
 * precompressed files it looks for beside the original, and compression on the fly.
 */

/** Offered codings, best first: brotli is smaller than gzip at similar speed. */
export const CODINGS = ["br", "gzip"] as const;
export type Coding = typeof CODINGS[number];

/** The sibling file holding a precompressed copy, as nginx's gzip_static and Caddy's precompressed. */
export const SIBLING_SUFFIX: Readonly<Record<Coding, string>> = { br: ".br", gzip: ".gz" };

/**
 * Smaller bodies are sent as they are: below about one packet the coding's own overhead (headers,
 * trailer, a chunked response instead of a known length) outweighs what it saves.
 */
export const MIN_COMPRESS_SIZE = 1024;

/** Compresses a body as it streams; the result has no known length. */
export function compress(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  coding: Coding,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  // Deno's CompressionStream implements "brotli" natively next to the standard "gzip".
  const format = (coding === "br" ? "brotli" : "gzip") as CompressionFormat;
  return body.pipeThrough(new CompressionStream(format));
}
