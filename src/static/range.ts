/**
 * Range requests (RFC 9110 §14): parsing `Range: bytes=…` against a representation's length and
 * laying out `multipart/byteranges` bodies (§14.6).
 */
import type { BodyPart } from "./body.ts";

/** A satisfiable byte range, both ends inclusive as in Content-Range. */
export interface ByteRange {
  first: number;
  last: number;
}

export type RangeRequest =
  /** No usable Range: send the whole representation with 200. */
  | { kind: "ignore" }
  /** Syntactically fine, but no range overlaps the representation: 416. */
  | { kind: "unsatisfiable" }
  | { kind: "ranges"; ranges: ByteRange[] };

/**
 * More ranges than this are ignored (200 with the whole file): a long list of tiny ranges costs
 * the server far more than the bytes it returns (§17.15 lists this as a denial-of-service vector).
 */
export const MAX_RANGES = 64;

/**
 * Parses a Range header value for a representation of `size` bytes (§14.1.1, §14.2). Invalid
 * syntax and unknown units are ignored, as §14.2 allows. Overlapping ranges are coalesced
 * (sorted and merged) so one request can never ask for the same bytes many times over.
 */
export function parseRange(header: string, size: number): RangeRequest {
  const match = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!match) return { kind: "ignore" };
  // A zero-length file has nothing a range could select; serve it whole, as nginx does.
  if (size === 0) return { kind: "ignore" };
  const specs = match[1].split(",").map((spec) => spec.trim()).filter((spec) => spec !== "");
  if (specs.length === 0 || specs.length > MAX_RANGES) return { kind: "ignore" };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const parts = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (!parts || (parts[1] === "" && parts[2] === "")) return { kind: "ignore" };
    if (parts[1] === "") {
      // suffix-range: the last N bytes; N = 0 selects nothing.
      const length = Number(parts[2]);
      if (length > 0) ranges.push({ first: Math.max(0, size - length), last: size - 1 });
      continue;
    }
    const first = Number(parts[1]);
    const last = parts[2] === "" ? Infinity : Number(parts[2]);
    if (last < first) return { kind: "ignore" }; // §14.1.1: invalid, so the whole header is
    if (first < size) ranges.push({ first, last: Math.min(last, size - 1) });
  }
  if (ranges.length === 0) return { kind: "unsatisfiable" };
  return { kind: "ranges", ranges: overlaps(ranges) ? coalesce(ranges) : ranges };
}

function overlaps(ranges: ByteRange[]): boolean {
  const sorted = ranges.toSorted((a, b) => a.first - b.first);
  return sorted.some((range, i) => i > 0 && range.first <= sorted[i - 1].last);
}

/** Merges overlapping or adjacent ranges (§14.6 allows coalescing). */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  const merged: ByteRange[] = [];
  for (const range of ranges.toSorted((a, b) => a.first - b.first)) {
    const previous = merged.at(-1);
    if (previous && range.first <= previous.last + 1) {
      previous.last = Math.max(previous.last, range.last);
    } else {
      merged.push({ ...range });
    }
  }
  return merged;
}

/** The Content-Range value for a range (§14.4). */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.first}-${range.last}/${size}`;
}

/** The body layout of a multipart/byteranges response: its Content-Type, parts and length. */
export interface Multipart {
  contentType: string;
  parts: BodyPart[];
  length: number;
}

const encoder = new TextEncoder();

/**
 * Lays out a `multipart/byteranges` body (§14.6, RFC 2046 §5.1): each part has its own
 * Content-Type and Content-Range. The length is computed up front, so the response carries a
 * Content-Length and the file data is streamed, never buffered.
 */
export function multipartByteranges(ranges: ByteRange[], size: number, type: string): Multipart {
  const boundary = crypto.randomUUID().replaceAll("-", "");
  const parts: BodyPart[] = [];
  let length = 0;
  const text = (value: string) => {
    const bytes = encoder.encode(value);
    parts.push(bytes);
    length += bytes.length;
  };
  ranges.forEach((range, index) => {
    const head = `--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: ${
      contentRange(range, size)
    }`;
    text(`${index === 0 ? "" : "\r\n"}${head}\r\n\r\n`);
    parts.push({ first: range.first, last: range.last });
    length += range.last - range.first + 1;
  });
  text(`\r\n--${boundary}--\r\n`);
  return { contentType: `multipart/byteranges; boundary=${boundary}`, parts, length };
}
