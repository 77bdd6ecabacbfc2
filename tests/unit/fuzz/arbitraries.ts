/**
 * Shared pieces of the property tests: the run budget, and generators of request heads, chunked
 * bodies and HTTP-shaped noise. The differential corpus (tests/e2e/differential/) draws from them too.
 *
 * Budget: `SOCKSERVE_FUZZ_RUNS` runs per property (default 300, a short budget that keeps
 * `deno task test` quick; 20 000 with the `--long` flag that `deno task fuzz` passes) and
 * `SOCKSERVE_FUZZ_SEED` (default fixed, so a failure reproduces; fast-check prints the seed and
 * path of a failure to replay it).
 */
import fc from "fast-check";

function envNumber(name: string, fallback: number): number {
  const value = Deno.env.get(name);
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, not "${value}"`);
  return n;
}

/** Runs per pure property (parsers); the live-connection fuzz uses a tenth of it. */
export const RUNS = envNumber("SOCKSERVE_FUZZ_RUNS", Deno.args.includes("--long") ? 20_000 : 300);
export const SEED = envNumber("SOCKSERVE_FUZZ_SEED", 0x50c5e7);

/** fast-check parameters for one property: fixed seed, the budget, no time-based shrinking. */
export function params(runs = RUNS): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(runs)), endOnFailure: false };
}

const TCHAR_EXTRA = "!#$%&'*+-.^_`|~";
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A token (RFC 9110 §5.6.2). */
export const token = (maxLength = 12) =>
  fc.string({
    unit: fc.constantFrom(...(ALNUM + TCHAR_EXTRA)),
    minLength: 1,
    maxLength,
  });

/** A method token other than CONNECT (refused with 501) and the ones fetch forbids. */
export const method = fc.oneof(
  fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"),
  token(10).filter((m) => !["CONNECT", "TRACE", "TRACK"].includes(m.toUpperCase())),
);

/** An origin-form target: "/" then visible ASCII. */
export const originTarget = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
}).map((rest) => `/${rest}`);

/** A field value as the parser returns it: no leading or trailing blanks; obs-text allowed. */
export const fieldValue = fc.array(
  fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
    { weight: 1, arbitrary: fc.constantFrom(0x20, 0x09) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  ),
  { maxLength: 30 },
).map((codes) => String.fromCharCode(...codes).replace(/^[ \t]+|[ \t]+$/g, ""));

/** Field names that would change framing, the connection or the Host count are left out. */
const RESERVED = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "expect",
  "connection",
]);

export interface HeadParts {
  method: string;
  target: string;
  minor: number;
  /** As the parser reports them: lower-case names, trimmed values, in order. */
  fields: string[];
  /** Whitespace written around each value: [before, after]. */
  ows: [string, string][];
  /** Names as written (any case). */
  names: string[];
}

const ows = fc.constantFrom("", " ", "  ", "\t", " \t");

/** Valid request heads, with a Host (required in 1.1) at a random place among the fields. */
export const headParts: fc.Arbitrary<HeadParts> = fc.record({
  method,
  target: originTarget,
  minor: fc.constantFrom(0, 1),
  host: fc.stringMatching(/^[a-z0-9.-]{1,20}(:[0-9]{1,5})?$/),
  hostAt: fc.nat(),
  others: fc.array(
    fc.record({
      name: token(16).filter((n) => !RESERVED.has(n.toLowerCase())),
      value: fieldValue,
      before: ows,
      after: ows,
    }),
    { maxLength: 12 },
  ),
}).map(({ method, target, minor, host, hostAt, others }) => {
  const list = others.map((f) => ({ ...f }));
  list.splice(hostAt % (list.length + 1), 0, { name: "Host", value: host, before: " ", after: "" });
  return {
    method,
    target,
    minor,
    names: list.map((f) => f.name),
    fields: list.flatMap((f) => [f.name.toLowerCase(), f.value]),
    ows: list.map((f) => [f.before, f.after] as [string, string]),
  };
});

/** The head as bytes on the wire (Latin-1: one char, one byte). */
export function serializeHead(parts: HeadParts, extraLines = ""): string {
  let text = `${parts.method} ${parts.target} HTTP/1.${parts.minor}\r\n`;
  for (let i = 0; i < parts.names.length; i++) {
    const [before, after] = parts.ows[i];
    text += `${parts.names[i]}:${before}${parts.fields[2 * i + 1]}${after}\r\n`;
  }
  return text + extraLines + "\r\n";
}

export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export function fromLatin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

/** Pieces of HTTP and the bytes that break it, glued at random: input that reaches deep states. */
const FRAGMENTS = [
  "GET",
  "POST",
  " ",
  "/",
  "/a?b=c",
  "*",
  "http://h/",
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/2.0",
  "\r\n",
  "\r\n\r\n",
  "\r",
  "\n",
  "\0",
  "\t",
  ":",
  ": ",
  "Host: h",
  "Host",
  "Transfer-Encoding: chunked",
  "Content-Length: 3",
  "Content-Length",
  "chunked",
  ",",
  ";",
  "=",
  "0",
  "5",
  "ffffffffffffffffff",
  "-",
  "+",
  "bytes=",
  "\x7f",
  "\xff",
  "\x0b",
];

export const httpNoise: fc.Arbitrary<Uint8Array> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...FRAGMENTS).map(latin1) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 8 }) },
  ),
  { maxLength: 40 },
).map((pieces) => {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of pieces) {
    out.set(p, off);
    off += p.length;
  }
  return out;
});

/** Any bytes, HTTP-shaped or not. */
export const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), httpNoise);

/** Sorted distinct cut points inside `[1, length)`, as reads would split the input. */
export function cuts(length: number): fc.Arbitrary<number[]> {
  if (length < 2) return fc.constant([]);
  return fc.uniqueArray(fc.integer({ min: 1, max: length - 1 }), { maxLength: 12 })
    .map((xs) => xs.toSorted((a, b) => a - b));
}

export interface ChunkedParts {
  chunks: Uint8Array[];
  extensions: string[];
  trailers: string[];
  upper: boolean;
  zeros: number;
}

/** A chunked body: chunks with optional extensions, a last chunk, optional trailer fields. */
export const chunkedParts: fc.Arbitrary<ChunkedParts> = fc.record({
  chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 6 }),
  extensions: fc.array(
    fc.constantFrom("", ";a", ";a=b", ' ;q="x y"', ";n=1;m", "\t;t"),
    { minLength: 7, maxLength: 7 },
  ),
  trailers: fc.array(
    fc.tuple(token(10), fieldValue).map(([n, v]) => `${n}: ${v}`),
    { maxLength: 3 },
  ),
  upper: fc.boolean(),
  zeros: fc.integer({ min: 0, max: 3 }),
});

export function serializeChunked(parts: ChunkedParts): string {
  let text = "";
  const size = (n: number) => {
    const hex = n.toString(16);
    return "0".repeat(parts.zeros) + (parts.upper ? hex.toUpperCase() : hex);
  };
  parts.chunks.forEach((chunk, i) => {
    text += `${size(chunk.length)}${parts.extensions[i % 7]}\r\n${fromLatin1(chunk)}\r\n`;
  });
  text += `0${parts.extensions[6]}\r\n`;
  for (const trailer of parts.trailers) text += `${trailer}\r\n`;
  return text + "\r\n";
}

/** A byte source that returns the input in the given pieces (at most one piece per read). */
export function pieces(input: Uint8Array, at: number[]) {
  const bounds = [0, ...at, input.length];
  let i = 0;
  let pos = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      while (i + 1 < bounds.length && pos >= bounds[i + 1]) i++;
      if (i + 1 >= bounds.length) return Promise.resolve(null);
      const n = Math.min(p.length, bounds[i + 1] - pos);
      p.set(input.subarray(pos, pos + n));
      pos += n;
      return Promise.resolve(n);
    },
  };
}
