/**
 * The response for one regular file: choosing the representation (identity, a precompressed
 * sibling, or compression on the fly), its validators, conditional requests and ranges.
 */
import { type Answer, FieldList, type RequestView } from "../direct.ts";
import type { FileCache } from "./cache.ts";
import { fileStream, readWhole } from "./body.ts";
import { type Coding, CODINGS, compress, MIN_COMPRESS_SIZE, SIBLING_SUFFIX } from "./compress.ts";
import {
  evaluatePreconditions,
  ifRangeHolds,
  type Validators,
  validatorsOf,
} from "./conditional.ts";
import { typeOf } from "./mime.ts";
import { acceptedEncodings } from "./negotiate.ts";
import { resolvePath, type Root } from "./path.ts";
import { type ByteRange, contentRange, multipartByteranges, parseRange } from "./range.ts";
import { plainAnswer } from "./responses.ts";

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
  /** Where hot files' bytes are kept between requests. */
  cache: FileCache;
  /** Fields every answer gets (nosniff, CORS, the configured ones), set last. */
  commonFields: readonly (readonly [string, string])[];
  /**
   * The fields of the usual answer (200, the whole file as it is), made once per unchanged file
   * (the file cache hands out one `FileInfo` for as long as a file does not change) and shared.
   */
  sharedFields: WeakMap<Deno.FileInfo, FieldList>;
}

/** What is actually sent: which file's bytes, in which coding, and whether coded on the fly. */
interface Representation {
  file: FileTarget;
  coding: Coding | null;
  onTheFly: boolean;
}

/** Answers GET or HEAD for a regular file. */
export function fileAnswer(
  request: RequestView,
  target: FileTarget,
  options: FileResponseOptions,
): Answer {
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
  // Validators and caching describe the resource; a not-found page must not be cached as one.
  const precondition = status === 200 ? evaluatePreconditions(request.headers, validators) : null;
  if (precondition === 412) return plainAnswer(412);
  if (precondition === null && status === 200 && rangeHeader === null && chosen.coding === null) {
    // The usual answer: its fields depend only on the file and the options, so each unchanged
    // file's are made once, with the common fields `decorate` would add, and shared.
    const info = chosen.file.info;
    let shared = options.sharedFields.get(info);
    if (shared === undefined) {
      shared = representationFields(status, validators, contentType, null, options);
      shared.set("content-length", String(info.size));
      for (const [name, value] of options.commonFields) shared.set(name, value);
      options.sharedFields.set(info, shared.freeze());
    }
    return fullAnswer(request, chosen, status, shared, options.cache);
  }
  if (precondition === 304) {
    // §15.4.5: a 304 carries the validators and caching fields a 200 would have, no content.
    return { status: 304, headers: validatorFields(status, validators, options), body: null };
  }
  const headers = representationFields(status, validators, contentType, chosen.coding, options);

  if (rangeHeader !== null && ifRangeHolds(request.headers, validators)) {
    const range = parseRange(rangeHeader, chosen.file.info.size);
    if (range.kind === "unsatisfiable") {
      return plainAnswer(416, { "content-range": `bytes */${chosen.file.info.size}` });
    }
    if (range.kind === "ranges") return partialAnswer(chosen.file, range.ranges, headers);
  }
  return fullAnswer(request, chosen, status, headers, options.cache);
}

/** Vary, and for a 200 the entity-tag and Cache-Control: the fields a 304 repeats. */
function validatorFields(
  status: number,
  validators: Validators,
  options: FileResponseOptions,
): FieldList {
  const headers = new FieldList({ vary: "Accept-Encoding" });
  if (status === 200) {
    headers.set("etag", validators.etag);
    if (options.cacheControl !== null) headers.set("cache-control", options.cacheControl);
  }
  return headers;
}

/** The fields that describe the representation sent, before its length. */
function representationFields(
  status: number,
  validators: Validators,
  contentType: string,
  coding: Coding | null,
  options: FileResponseOptions,
): FieldList {
  const headers = validatorFields(status, validators, options);
  if (status === 200) {
    if (validators.lastModifiedField !== null) {
      headers.set("last-modified", validators.lastModifiedField);
    }
    headers.set("accept-ranges", "bytes");
  }
  headers.set("content-type", contentType);
  if (coding !== null) headers.set("content-encoding", coding);
  return headers;
}

/** 206 with one range, or with several as multipart/byteranges (§14.6). */
function partialAnswer(file: FileTarget, ranges: ByteRange[], headers: FieldList): Answer {
  const size = file.info.size;
  if (ranges.length === 1) {
    const { first, last } = ranges[0];
    headers.set("content-range", contentRange(ranges[0], size));
    headers.set("content-length", String(last - first + 1));
    return { status: 206, headers, body: { kind: "file", path: file.path, first, last } };
  }
  const multipart = multipartByteranges(ranges, size, headers.get("content-type")!);
  headers.set("content-type", multipart.contentType);
  headers.set("content-length", String(multipart.length));
  return { status: 206, headers, body: stream(fileStream(file.path, multipart.parts)) };
}

function stream(stream: ReadableStream<Uint8Array>): Answer["body"] {
  return { kind: "stream", stream };
}

/**
 * The whole representation: small and hot files in one buffer (cache.ts), others streamed from
 * the file, coded ones piped through the compressor.
 */
function fullAnswer(
  request: RequestView,
  { file, coding, onTheFly }: Representation,
  status: number,
  headers: FieldList,
  cache: FileCache,
): Answer {
  const size = file.info.size;
  const whole = [{ first: 0, last: size - 1 }];
  if (onTheFly && coding !== null) {
    // The coded length is unknown until the end: no Content-Length, the server frames it.
    const body = request.method === "GET"
      ? stream(compress(fileStream(file.path, whole), coding))
      : null;
    return { status, headers, body };
  }
  if (request.method === "HEAD") return { status, headers: withLength(headers, size), body: null };
  const bytes = cache.bytesOf(file.path, file.info, () => readWhole(file.path, size));
  if (bytes !== null) {
    return { status, headers: withLength(headers, bytes.length), body: { kind: "bytes", bytes } };
  }
  const body = { kind: "file", path: file.path, first: 0, last: size - 1 } as const;
  return { status, headers: withLength(headers, size), body };
}

/**
 * `headers` with Content-Length `length`. A shared list already has the file's size; one that
 * says otherwise (the file shrank before it was read) is copied, never changed.
 */
function withLength(headers: FieldList, length: number): FieldList {
  const value = String(length);
  if (headers.frozen) {
    if (headers.get("content-length") === value) return headers;
    headers = FieldList.copy(headers);
  }
  headers.set("content-length", value);
  return headers;
}

/**
 * Picks the coding for a compressible file: a precompressed sibling (`x.js.br`, `x.js.gz`) in
 * the client's order of preference, else compression on the fly when the file is big enough to
 * gain from it, else identity.
 */
function chooseCoding(request: RequestView, target: FileTarget, root: Root): Representation {
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
