/** Byte-array helpers shared by the reader, the body decoders and the file responses. */

/** Index of the first `needle` in `haystack[from, to)`, or -1. */
export function indexOfSequence(
  haystack: Uint8Array,
  needle: Uint8Array,
  from: number,
  to: number,
): number {
  const first = needle[0];
  const last = to - needle.length;
  for (
    let i = haystack.indexOf(first, from);
    i !== -1 && i <= last;
    i = haystack.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** The pieces copied into one new array. */
export function concatBytes(pieces: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const piece of pieces) size += piece.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const piece of pieces) {
    out.set(piece, off);
    off += piece.length;
  }
  return out;
}
