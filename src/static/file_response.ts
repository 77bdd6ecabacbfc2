/**
 * The response for one regular file: choosing the representation (identity, a precompressed
 * sibling, or compression on the fly), its validators, conditional requests and ranges.
 */
import type { Answer, RequestView } from "../handler/direct.ts";
import { FieldList } from "../http1/field_list.ts";
import { MAX_CACHED_FILE_BYTES } from "./cache.ts";
import { concatBytes } from "../io/bytes.ts";
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
import { resolvePath, type Root, splitLast } from "./path.ts";
import { type ByteRange, contentRange, multipartByteranges, parseRange } from "./range.ts";
import { plainAnswer } from "./responses.ts";
import { injectedAnswer } from "./inject.ts";
import type { FileResponseOptions, FileTarget } from "./file_target.ts";

export type { FileResponseOptions, FileTarget };

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
  if (options.injectHtml && contentType.startsWith("text/html")) {
    return injectedAnswer(request, target, contentType, options.injectHtml, options);
  }
  const status = options.status ?? 200;
  // Ranges count bytes of the identity representation: a request with Range is never coded, so
  // range offsets always mean the same bytes (and validators the same file) whatever it accepts.
  const rangeHeader = request.method === "GET" && status === 200
    ? request.headers.get("range")
    : null;
  const chosen = rangeHeader === null && options.compress && compressible
    ? chooseCoding(request, target, options)
    : { file: target, coding: null, onTheFly: false };
  const validators = validatorsOf(chosen.file.info, chosen.onTheFly ? chosen.coding! : undefined);
  // Validators and caching describe the resource; a not-found page must not be cached as one.
  const precondition = status === 200 ? evaluatePreconditions(request.headers, validators) : null;
  if (precondition === 412) return plainAnswer(412);
  if (precondition === 304) {
    // §15.4.5: a 304 carries the validators and caching fields a 200 would have, no content.
    return { status: 304, headers: validatorFields(status, validators, options), body: null };
  }
  const fields = () =>
    representationFields(status, validators, contentType, chosen.coding, options);
  if (rangeHeader !== null && ifRangeHolds(request.headers, validators)) {
    const range = parseRange(rangeHeader, chosen.file.info.size);
    if (range.kind === "unsatisfiable") {
      return plainAnswer(416, { "content-range": `bytes */${chosen.file.info.size}` });
    }
    if (range.kind === "ranges") return partialAnswer(chosen.file, range.ranges, fields());
  }
  return fullAnswer(request, chosen, status, fields, options);
}

/** Sets the fields every answer gets, last, so that the configured ones replace the server's. */
export function addCommonFields(headers: FieldList, options: FileResponseOptions): void {
  for (const [name, value] of options.commonFields) headers.set(name, value);
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
 * the file, coded ones piped through the compressor, and kept once coded.
 *
 * A 200 whose length is known has the same fields for as long as its bytes stay the same (`fields`
 * depends only on the file and the options): they are made once, with the common fields
 * `decorate` would add, and shared by its answers, under the file's `stat` result (which the file
 * cache hands out for as long as the file is unchanged) or under its kept coded bytes.
 */
function fullAnswer(
  request: RequestView,
  { file, coding, onTheFly }: Representation,
  status: number,
  fields: () => FieldList,
  options: FileResponseOptions,
): Answer {
  const cache = options.cache;
  const size = file.info.size;
  /** The fields with a Content-Length of `length`, shared under `key` for a 200 (null: not). */
  const withLength = (key: Deno.FileInfo | Uint8Array | null, length: number): FieldList => {
    const shareable = key !== null && status === 200;
    const shared = shareable ? options.sharedFields.get(key) : undefined;
    if (shared !== undefined) return shared;
    const made = fields();
    made.set("content-length", String(length));
    if (!shareable) return made;
    addCommonFields(made, options);
    options.sharedFields.set(key, made.freeze());
    return made;
  };
  if (onTheFly && coding !== null) {
    const kept = cache.codedOf(file.path, file.info, coding);
    if (kept !== null) {
      const body = request.method === "GET" ? { kind: "bytes", bytes: kept } as const : null;
      return { status, headers: withLength(kept, kept.length), body };
    }
    // The coded length is unknown until the end: no Content-Length, the server frames it. The
    // coded bytes are kept for the next requests (compressing costs far more than sending).
    if (request.method === "HEAD") return { status, headers: fields(), body: null };
    const coded = compress(fileStream(file.path, [{ first: 0, last: size - 1 }]), coding);
    const keep = (bytes: Uint8Array<ArrayBuffer>) =>
      cache.keepCoded(file.path, file.info, coding, bytes);
    return {
      status,
      headers: fields(),
      body: stream(keptAtEnd(coded, MAX_CACHED_FILE_BYTES, keep)),
    };
  }
  if (request.method === "HEAD") {
    return { status, headers: withLength(file.info, size), body: null };
  }
  const bytes = cache.bytesOf(file.path, file.info, () => readWhole(file.path, size));
  if (bytes !== null) {
    // Fewer bytes than the `stat` said (the file shrank before it was read): fields of their own.
    const key = bytes.length === size ? file.info : null;
    return { status, headers: withLength(key, bytes.length), body: { kind: "bytes", bytes } };
  }
  const body = { kind: "file", path: file.path, first: 0, last: size - 1 } as const;
  return { status, headers: withLength(file.info, size), body };
}

/**
 * `body` as it is, with a copy of its bytes handed to `keep` once it has ended whole. A body longer
 * than `limit` bytes, or cancelled, is not kept. The copies are made as the chunks pass, so that
 * a reader that writes into the chunks it reads cannot change what is kept.
 */
function keptAtEnd(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  limit: number,
  keep: (bytes: Uint8Array<ArrayBuffer>) => void,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let copies: Uint8Array[] | null = [];
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        size += chunk.length;
        if (size > limit) copies = null;
        copies?.push(chunk.slice());
        controller.enqueue(chunk);
      },
      flush() {
        if (copies !== null) keep(concatBytes(copies));
      },
    }),
  );
}

/**
 * Picks the coding for a compressible file: a precompressed sibling (`x.js.br`, `x.js.gz`) in
 * the client's order of preference, else compression on the fly when the file is big enough to
 * gain from it, else identity.
 */
function chooseCoding(
  request: RequestView,
  target: FileTarget,
  options: FileResponseOptions,
): Representation {
  const identity = { file: target, coding: null, onTheFly: false };
  const accepted = acceptedEncodings(request.headers.get("accept-encoding"), CODINGS);
  if (accepted.length === 0) return identity;
  const [dir, name] = splitLast(target.path);
  const listing = options.cache.listingOf(dir);
  for (const coding of accepted) {
    const suffix = SIBLING_SUFFIX[coding];
    // Not in the directory's listing: absent, known without the exception a failed look costs.
    if (listing !== null && !listing.mayHave(name + suffix)) continue;
    const sibling = siblingFile(options.root, target.path + suffix);
    if (sibling) return { file: sibling, coding, onTheFly: false };
  }
  if (target.info.size >= MIN_COMPRESS_SIZE) {
    return { file: target, coding: accepted[0], onTheFly: true };
  }
  return identity;
}

/** A precompressed sibling that exists, is a regular file and is inside the root; else null. */
function siblingFile(root: Root, path: string): FileTarget | null {
  try {
    const resolved = resolvePath(root, path);
    if (!resolved) return null;
    const info = Deno.statSync(resolved.real);
    return info.isFile ? { path: resolved.real, info } : null;
  } catch {
    return null; // missing (the common case) or unreadable: serve the original instead
  }
}
