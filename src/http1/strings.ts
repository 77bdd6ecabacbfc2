/**
 * Strings from head bytes, remembered: the parser's way from bytes to the strings of a
 * `RequestHead`.
 *
 * A client repeats itself. wrk sends the same method, target and Host on every request, and a
 * browser sends the same dozen fields on every request of a page. Each string made anew costs an
 * allocation, and in V8 `String.fromCharCode` over a byte range costs 0.1 µs for a short string.
 * Comparing the bytes with the string last made from bytes like them costs a third of that, and
 * the string it returns is one V8 has already hashed (a `Set` or `Map` lookup of a string that is
 * new each time hashes it first).
 *
 * The table is direct-mapped: a slot per hash of the length and three of the bytes, holding the
 * last string made there. A stream of distinct strings only costs a failed comparison each. It
 * keeps at most `SLOTS` strings of at most `MAX_LENGTH` characters, so it cannot be made to grow.
 */

const SLOTS = 512;
const MAX_LENGTH = 256;

/** Each byte as itself, and A-Z to a-z (lower case for tokens, which are ASCII). */
const SAME = new Uint8Array(256).map((_, b) => b);
const LOWER = SAME.map((b) => b >= 0x41 && b <= 0x5a ? b + 0x20 : b);

/** Remembered strings, one table for each way of reading bytes. */
const exact: string[] = new Array(SLOTS).fill("");
const lowered: string[] = new Array(SLOTS).fill("");

/** `buf[start, end)` read as Latin-1: one byte, one UTF-16 code unit. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  return remembered(exact, false, buf, start, end);
}

/** A token `buf[start, end)` (ASCII, as a field name is), lower-cased. */
export function lowerToken(buf: Uint8Array, start: number, end: number): string {
  return remembered(lowered, true, buf, start, end);
}

/** The string of `buf[start, end)`, lower-cased if `lower`: the one in `table` when it matches. */
function remembered(
  table: string[],
  lower: boolean,
  buf: Uint8Array,
  start: number,
  end: number,
): string {
  const length = end - start;
  if (length === 0) return "";
  const slot = length > MAX_LENGTH ? -1 : slotOf(buf, start, end);
  const known = slot === -1 ? "" : table[slot];
  if (known.length === length) {
    const map = lower ? LOWER : SAME;
    let i = 0;
    while (i < length && known.charCodeAt(i) === map[buf[start + i]]) i++;
    if (i === length) return known;
  }
  const made = lower ? decode(buf, start, end).toLowerCase() : decode(buf, start, end);
  if (slot !== -1) table[slot] = made;
  return made;
}

function decode(buf: Uint8Array, start: number, end: number): string {
  return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
}

/**
 * The slot: the length and the first, middle and last bytes, case folded so that both tables
 * agree on where a name goes (a name sent as "Host" and as "host" lands in the same slot).
 */
function slotOf(buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  const hash = Math.imul(length, 0x9e3779b1) ^
    Math.imul(LOWER[buf[start]], 0x85ebca6b) ^
    Math.imul(LOWER[buf[start + (length >> 1)]], 0xc2b2ae35) ^
    Math.imul(LOWER[buf[end - 1]], 0x27d4eb2f);
  return (hash ^ (hash >>> 15)) & (SLOTS - 1);
}
