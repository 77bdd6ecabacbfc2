/**
 * The response for one regular file: choosing the representation (identity, a precompressed
 * sibling, or compression on the fly), its validators, conditional requests and ranges.
 */
import { labelBody } from "../body_source.ts";
import type { FileCache } from "./cache.ts";
import { type BodyPart, fileStream, readWhole, WHOLE_READ_LIMIT } from "./body.ts";
import { type Coding, CODINGS, compress, MIN_COMPRESS_SIZE, SIBLING_SUFFIX } from "./compress.ts";
import { evaluatePreconditions, httpDate, ifRangeHolds, validatorsOf } from "./conditional.ts";
import { typeOf } from "./mime.ts";
import { acceptedEncodings } from "./negotiate.ts";
import { resolvePath, type Root } from "./path.ts";
import { type ByteRange, contentRange, multipartByteranges, parseRange } from "./range.ts";
import { plainResponse } from "./responses.ts";

/** A regular file that passed the root checks: its real path and metadata. */
export interface FileTarget {
  path: string;
  info: Deno.FileInfo;
}

export interface FileResponseOptions {
  root: Root;
  /** Offer content codings (precompressed siblings and on the fly). */
  compress: boolean;
  /** Cache-Control for file responses, or null for none. */
  cacheControl: string | null;
  /** Status of a full response: 200, or 404 for a custom not-found page. */
  status?: number;
  /** Where small files' bytes are kept between requests. */
  cache: FileCache;
}

/** What is actually sent: which file's bytes, in which coding, and whether coded on the fly. */
interface Representation {
  file: FileTarget;
  coding: Coding | null;
  onTheFly: boolean;
}

/** Answers GET or HEAD for a regular file. */
export function fileResponse(
  request: Request,
  target: FileTarget,
  options: FileResponseOptions,
): Response {
  const { contentType, compressible } = typeOf(target.path);
  const status = options.status ?? 200;
  // Ranges count bytes of the identity representation: a request with Range is never coded, so
  // range offsets always mean the same bytes (and validators the same file) whatever it accepts.
  const rangeHeader = request.method === "GET" && status === 200
    ? request.headers.get("range")
    : null;
  const chosen = rangeHeader === null && options.compress && compressible
    ? chooseCoding(request, target, options.root)
    : { file: target, coding: null, onTheFly: false };
  const validators = validatorsOf(chosen.file.info, chosen.onTheFly ? chosen.coding! : undefined);

  const headers = new Headers({ vary: "Accept-Encoding" });
  // Validators and caching describe the resource; a not-found page must not be cached as one.
  if (status === 200) {
    headers.set("etag", validators.etag);
    if (options.cacheControl !== null) headers.set("cache-control", options.cacheControl);
    const precondition = evaluatePreconditions(request.headers, validators);
    // §15.4.5: a 304 carries the validators and caching fields a 200 would have, no content.
    if (precondition === 304) return new Response(null, { status: 304, headers });
    if (precondition === 412) return plainResponse(412);
    if (validators.lastModified) headers.set("last-modified", httpDate(validators.lastModified));
    headers.set("accept-ranges", "bytes");
  }
  headers.set("content-type", contentType);
  if (chosen.coding !== null) headers.set("content-encoding", chosen.coding);

  if (rangeHeader !== null && ifRangeHolds(request.headers, validators)) {
    const range = parseRange(rangeHeader, chosen.file.info.size);
    if (range.kind === "unsatisfiable") {
      return plainResponse(416, { "content-range": `bytes */${chosen.file.info.size}` });
    }
    if (range.kind === "ranges") return partialResponse(chosen.file, range.ranges, headers);
  }
  return fullResponse(request, chosen, status, headers, options.cache);
}

/** 206 with one range, or with several as multipart/byteranges (§14.6). */
function partialResponse(file: FileTarget, ranges: ByteRange[], headers: Headers): Response {
  const size = file.info.size;
  let parts: BodyPart[] = ranges;
  if (ranges.length === 1) {
    headers.set("content-range", contentRange(ranges[0], size));
    headers.set("content-length", String(ranges[0].last - ranges[0].first + 1));
  } else {
    const multipart = multipartByteranges(ranges, size, headers.get("content-type")!);
    parts = multipart.parts;
    headers.set("content-type", multipart.contentType);
    headers.set("content-length", String(multipart.length));
  }
  const response = new Response(fileStream(file.path, parts), { status: 206, headers });
  if (ranges.length > 1) return response;
  return labelBody(response, { kind: "file", path: file.path, ...ranges[0] });
}

/** The whole representation: small files in one buffer, large ones streamed, coded ones piped. */
function fullResponse(
  request: Request,
  { file, coding, onTheFly }: Representation,
  status: number,
  headers: Headers,
  cache: FileCache,
): Response {
  const size = file.info.size;
  const whole = [{ first: 0, last: size - 1 }];
  if (onTheFly && coding !== null) {
    // The coded length is unknown until the end: no Content-Length, the server frames it.
    const body = request.method === "GET" ? compress(fileStream(file.path, whole), coding) : null;
    return new Response(body, { status, headers });
  }
  if (request.method === "HEAD") {
    headers.set("content-length", String(size));
    return new Response(null, { status, headers });
  }
  if (size <= WHOLE_READ_LIMIT) {
    const bytes = cache.read(file.path, file.info, () => readWhole(file.path, size));
    headers.set("content-length", String(bytes.length));
    return labelBody(new Response(bytes, { status, headers }), { kind: "bytes", bytes });
  }
  headers.set("content-length", String(size));
  const response = new Response(fileStream(file.path, whole), { status, headers });
  return labelBody(response, { kind: "file", path: file.path, first: 0, last: size - 1 });
}

/**
 * Picks the coding for a compressible file: a precompressed sibling (`x.js.br`, `x.js.gz`) in
 * the client's order of preference, else compression on the fly when the file is big enough to
 * gain from it, else identity.
 */
function chooseCoding(request: Request, target: FileTarget, root: Root): Representation {
  const accepted = acceptedEncodings(request.headers.get("accept-encoding"), CODINGS);
  for (const coding of accepted) {
    const sibling = siblingFile(root, target.path, SIBLING_SUFFIX[coding]);
    if (sibling) return { file: sibling, coding, onTheFly: false };
  }
  if (accepted.length > 0 && target.info.size >= MIN_COMPRESS_SIZE) {
    return { file: target, coding: accepted[0], onTheFly: true };
  }
  return { file: target, coding: null, onTheFly: false };
}

/** A precompressed sibling that exists, is a regular file and is inside the root; else null. */
function siblingFile(root: Root, path: string, suffix: string): FileTarget | null {
  try {
    const resolved = resolvePath(root, path + suffix);
    if (!resolved) return null;
    const info = Deno.statSync(resolved.real);
    return info.isFile ? { path: resolved.real, info } : null;
  } catch {
    return null; // missing (the common case) or unreadable: serve the original instead
  }
}
