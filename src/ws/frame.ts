/**
 * WebSocket frames (RFC 6455 §5.2) as pure functions over bytes: `parseFrame` reads one frame
 * (complete / incomplete / error with the close code to send), the encoders write them.
 *
 * The parser checks everything a single frame can break: reserved bits without an extension that
 * defines them, reserved opcodes, fragmented or oversized control frames, a mask where none is
 * expected (or none where one is), a 64-bit length with its top bit set, and a payload over the
 * caller's limit (1009, decided from the header, before a byte of the payload is buffered). What
 * spans frames (continuations, UTF-8 across fragments) is message.ts's job.
 */

/** Opcodes, RFC 6455 §5.2. */
export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes this module and message.ts send, RFC 6455 §7.4.1. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_NO_STATUS = 1005;
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

/** The longest payload a control frame may carry (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

export interface Frame {
  fin: boolean;
  /** RSV1: "this message is compressed" under permessage-deflate (RFC 7692 §6). */
  rsv1: boolean;
  opcode: number;
  /** The payload, unmasked, as a view into the parsed buffer. */
  payload: Uint8Array;
}

/** What a frame may look like for the reader; the rest is a protocol error. */
export interface FrameRules {
  /** Frames must be masked (a server reading a client) or must not be (a client reading). */
  readonly masked: boolean;
  /** RSV1 may be set: permessage-deflate was negotiated. */
  readonly rsv1: boolean;
  /** The longest payload accepted; a longer one is answered with 1009. */
  readonly maxPayload: number;
}

export type FrameParse =
  | { kind: "frame"; frame: Frame; consumed: number }
  /** `needed`: the bytes (from `start`) that must be buffered before parsing can go on. */
  | { kind: "incomplete"; needed: number }
  | { kind: "error"; code: number; reason: string };

function failure(code: number, reason: string): FrameParse {
  return { kind: "error", code, reason };
}

/**
 * Parses the frame at `bytes[start..end)`. A complete masked frame is unmasked in place (so a
 * complete frame must be parsed once); an incomplete one is left untouched.
 */
export function parseFrame(
  bytes: Uint8Array,
  start: number,
  end: number,
  rules: FrameRules,
): FrameParse {
  const available = end - start;
  if (available < 2) return { kind: "incomplete", needed: 2 };
  const b0 = bytes[start];
  const b1 = bytes[start + 1];
  const opcode = b0 & 0x0f;
  const rsv1 = (b0 & 0x40) !== 0;
  if ((b0 & 0x30) !== 0) return failure(CLOSE_PROTOCOL_ERROR, "RSV2 or RSV3 set");
  if (rsv1 && !rules.rsv1) return failure(CLOSE_PROTOCOL_ERROR, "RSV1 set without an extension");
  const fin = (b0 & 0x80) !== 0;
  if (opcode >= OP_CLOSE) {
    if (opcode > OP_PONG) return failure(CLOSE_PROTOCOL_ERROR, `reserved opcode ${opcode}`);
    if (!fin) return failure(CLOSE_PROTOCOL_ERROR, "fragmented control frame");
    if (rsv1) return failure(CLOSE_PROTOCOL_ERROR, "RSV1 set on a control frame");
    if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) {
      return failure(CLOSE_PROTOCOL_ERROR, "control frame payload over 125 bytes");
    }
  } else if (opcode > OP_BINARY) {
    return failure(CLOSE_PROTOCOL_ERROR, `reserved opcode ${opcode}`);
  }
  const masked = (b1 & 0x80) !== 0;
  if (masked !== rules.masked) {
    return failure(CLOSE_PROTOCOL_ERROR, masked ? "masked server frame" : "unmasked client frame");
  }
  const length7 = b1 & 0x7f;
  const lengthBytes = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  const headerLength = 2 + lengthBytes + (masked ? 4 : 0);
  // The length is judged as soon as it is there, before the masking key.
  if (available < 2 + lengthBytes) return { kind: "incomplete", needed: headerLength };
  let length = length7;
  if (length7 === 126) {
    length = (bytes[start + 2] << 8) | bytes[start + 3];
  } else if (length7 === 127) {
    const high = readUint32(bytes, start + 2);
    if (high >= 0x80000000) return failure(CLOSE_PROTOCOL_ERROR, "64-bit length with top bit set");
    // Exact up to 2^53; anything near that is far over every limit anyway.
    length = high * 0x100000000 + readUint32(bytes, start + 6);
  }
  if (length > rules.maxPayload) {
    return failure(CLOSE_TOO_BIG, `message over ${rules.maxPayload} bytes`);
  }
  const total = headerLength + length;
  if (available < total) return { kind: "incomplete", needed: total };
  const payload = bytes.subarray(start + headerLength, start + total);
  if (masked) unmask(payload, bytes, start + headerLength - 4);
  return { kind: "frame", frame: { fin, rsv1, opcode, payload }, consumed: total };
}

export type FrameExtent =
  | { kind: "frame"; opcode: number; consumed: number }
  /** `opcode` is -1 until the first byte is there. */
  | { kind: "incomplete"; opcode: number; needed: number };

/**
 * Where the frame at `bytes[start..end)` ends, without judging it: for skipping what a peer sends
 * after its connection was failed, until its close frame.
 */
export function frameExtent(bytes: Uint8Array, start: number, end: number): FrameExtent {
  const available = end - start;
  if (available < 2) {
    return { kind: "incomplete", opcode: available === 1 ? bytes[start] & 0x0f : -1, needed: 2 };
  }
  const opcode = bytes[start] & 0x0f;
  const b1 = bytes[start + 1];
  const length7 = b1 & 0x7f;
  const headerLength = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
  if (available < headerLength) return { kind: "incomplete", opcode, needed: headerLength };
  let length = length7;
  if (length7 === 126) length = (bytes[start + 2] << 8) | bytes[start + 3];
  else if (length7 === 127) {
    length = readUint32(bytes, start + 2) * 0x100000000 + readUint32(bytes, start + 6);
  }
  const total = headerLength + length;
  if (available < total) return { kind: "incomplete", opcode, needed: total };
  return { kind: "frame", opcode, consumed: total };
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this, a byte loop beats setting up a word view. */
const WORD_UNMASK_MIN = 32;

/**
 * XORs `payload` in place with the 4-byte key at `key[keyAt..keyAt+4)` (RFC 6455 §5.3), four
 * bytes at a time over the 4-aligned middle of the payload.
 */
export function unmask(payload: Uint8Array, key: Uint8Array, keyAt: number): void {
  const k0 = key[keyAt], k1 = key[keyAt + 1], k2 = key[keyAt + 2], k3 = key[keyAt + 3];
  const n = payload.length;
  let i = 0;
  if (n >= WORD_UNMASK_MIN && LITTLE_ENDIAN) {
    const mask = [k0, k1, k2, k3];
    for (; ((payload.byteOffset + i) & 3) !== 0; i++) payload[i] ^= mask[i & 3];
    const words = new Uint32Array(payload.buffer, payload.byteOffset + i, (n - i) >>> 2);
    // The word at payload offset i starts with key byte i & 3 (little-endian: lowest byte first).
    const word = (mask[i & 3] | (mask[(i + 1) & 3] << 8) | (mask[(i + 2) & 3] << 16) |
      (mask[(i + 3) & 3] << 24)) | 0;
    for (let w = 0; w < words.length; w++) words[w] ^= word;
    i += words.length << 2;
  }
  for (; i < n; i++) {
    const j = i & 3;
    payload[i] ^= j === 0 ? k0 : j === 1 ? k1 : j === 2 ? k2 : k3;
  }
}

/** The header's length for a payload of `length` bytes, with a masking key when `masked`. */
export function headerLength(length: number, masked = false): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes a header at `target[at..)` and returns where the payload (or masking key) starts. */
function writeHeader(
  target: Uint8Array,
  at: number,
  opcode: number,
  length: number,
  fin: boolean,
  rsv1: boolean,
  masked: boolean,
): number {
  target[at] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) {
    target[at + 1] = maskBit | length;
    return at + 2;
  }
  if (length < 0x10000) {
    target[at + 1] = maskBit | 126;
    target[at + 2] = length >>> 8;
    target[at + 3] = length & 0xff;
    return at + 4;
  }
  target[at + 1] = maskBit | 127;
  const high = Math.floor(length / 0x100000000);
  const low = length >>> 0;
  target[at + 2] = high >>> 24;
  target[at + 3] = (high >>> 16) & 0xff;
  target[at + 4] = (high >>> 8) & 0xff;
  target[at + 5] = high & 0xff;
  target[at + 6] = low >>> 24;
  target[at + 7] = (low >>> 16) & 0xff;
  target[at + 8] = (low >>> 8) & 0xff;
  target[at + 9] = low & 0xff;
  return at + 10;
}

export interface EncodeOptions {
  /** Default true. */
  fin?: boolean;
  /** Default false; set on the first frame of a compressed message. */
  rsv1?: boolean;
  /** A client's 4-byte masking key (a server's frames are never masked). */
  mask?: Uint8Array;
}

/** One frame: header and payload in one buffer, masked when a key is given. */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array,
  options: EncodeOptions = {},
): Uint8Array {
  const mask = options.mask;
  const frame = new Uint8Array(headerLength(payload.length, mask !== undefined) + payload.length);
  let at = writeHeader(
    frame,
    0,
    opcode,
    payload.length,
    options.fin ?? true,
    options.rsv1 ?? false,
    mask !== undefined,
  );
  if (mask !== undefined) {
    frame.set(mask.subarray(0, 4), at);
    at += 4;
  }
  frame.set(payload, at);
  if (mask !== undefined) unmask(frame.subarray(at), frame, at - 4);
  return frame;
}

const encoder = new TextEncoder();
/** Strings up to this many UTF-16 units are encoded straight into the frame. */
const DIRECT_TEXT_MAX = 16 * 1024;

/**
 * An unfragmented, unmasked text frame. A string whose UTF-8 length has one header size whatever
 * it turns out to be is encoded straight into the frame's buffer (one allocation, no copy).
 */
export function encodeTextFrame(text: string): Uint8Array {
  const units = text.length;
  const header = headerLength(units);
  if (units <= DIRECT_TEXT_MAX && headerLength(units * 3) === header) {
    const frame = new Uint8Array(header + units * 3);
    const { written } = encoder.encodeInto(text, frame.subarray(header));
    writeHeader(frame, 0, OP_TEXT, written, true, false, false);
    return frame.subarray(0, header + written);
  }
  return encodeFrame(OP_TEXT, encoder.encode(text));
}

/** A close frame's payload: the code and the UTF-8 reason; empty when there is no code. */
export function closePayload(code: number | undefined, reason = ""): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  const text = encoder.encode(reason);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}
