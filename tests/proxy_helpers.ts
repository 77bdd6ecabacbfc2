/**
 * Building PROXY protocol headers for tests, written from the spec's layout (not from the parser):
 * v1 lines as text, v2 headers byte by byte.
 */
import { concatBytes } from "../src/io/bytes.ts";

const encoder = new TextEncoder();

export const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

export function v1(line: string): Uint8Array {
  return encoder.encode(line);
}

const u16 = (n: number) => [n >> 8, n & 0xff];

/** A v2 header: version 2, `command` (0 LOCAL, 1 PROXY), fam/proto byte, then the block. */
export function v2(
  command: number,
  famProto: number,
  block: number[] | Uint8Array,
  declaredLength = block.length,
): Uint8Array {
  return new Uint8Array([
    ...SIGNATURE,
    0x20 | command,
    famProto,
    ...u16(declaredLength),
    ...block,
  ]);
}

/** The IPv4 address block: src, dst, sport, dport (12 bytes). */
export function inet(src: number[], dst: number[], sport: number, dport: number): number[] {
  return [...src, ...dst, ...u16(sport), ...u16(dport)];
}

/** The IPv6 address block (36 bytes), addresses as 16 bytes each. */
export function inet6(src: number[], dst: number[], sport: number, dport: number): number[] {
  return [...src, ...dst, ...u16(sport), ...u16(dport)];
}

/** The Unix address block (216 bytes): two NUL-padded 108-byte paths. */
export function unix(src: string, dst: string): number[] {
  const path = (p: string) => {
    const bytes = new Uint8Array(108);
    bytes.set(encoder.encode(p));
    return [...bytes];
  };
  return [...path(src), ...path(dst)];
}

/** One TLV: type, 16-bit length, value. */
export function tlv(type: number, value: number[]): number[] {
  return [type, ...u16(value.length), ...value];
}

/** 16 bytes of an IPv6 address from its 8 groups. */
export function groups(...g: number[]): number[] {
  return g.flatMap(u16);
}

/** The parts in one array (variadic, for building headers in tests). */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}
