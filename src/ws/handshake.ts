/**
 * The opening handshake, server side (RFC 6455 §4.2): checking the client's request, the
 * `Sec-WebSocket-Accept` answer, the subprotocol and the extensions.
 *
 * Requests that are not WebSocket upgrades at all throw the `TypeError`s `Deno.upgradeWebSocket`
 * throws, with its messages, so handlers that catch them behave the same. A WebSocket upgrade that
 * is wrong in a way the client can be told about gets its answer (RFC 6455 §4.2.2): 426 with
 * `Sec-WebSocket-Version: 13` for another version, 400 for a key that is not 16 bytes in base64
 * or a method other than GET.
 */
import { type DeflateAgreement, negotiateDeflate } from "./deflate.ts";

/** RFC 6455 §1.3's GUID, appended to the key before hashing. */
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** 16 bytes in base64: 22 characters and "==". */
const KEY_FORM = /^[A-Za-z0-9+/]{22}==$/;

export interface HandshakeOptions {
  /** The subprotocol to select; it must be among the ones the client offers. */
  protocol?: string;
  /** Whether permessage-deflate may be negotiated. */
  compression: boolean;
}

export type Handshake =
  | {
    kind: "accept";
    /** The 101's fields. */
    headers: [string, string][];
    protocol: string;
    deflate: DeflateAgreement | null;
  }
  | { kind: "reject"; status: 400 | 426; headers: [string, string][]; message: string };

/** Whether the comma-separated `value` holds `token`, case-insensitively. */
function listHas(value: string | null, token: string): boolean {
  if (value === null) return false;
  for (const item of value.split(",")) {
    if (item.trim().toLowerCase() === token) return true;
  }
  return false;
}

function reject(status: 400 | 426, message: string): Handshake {
  const headers: [string, string][] = [["content-type", "text/plain; charset=utf-8"]];
  if (status === 426) headers.push(["sec-websocket-version", "13"]);
  return { kind: "reject", status, headers, message };
}

/** Checks an upgrade request and decides the answer; throws `TypeError` as Deno does. */
export function checkHandshake(
  method: string,
  headers: Headers,
  options: HandshakeOptions,
): Handshake {
  if (!listHas(headers.get("upgrade"), "websocket")) {
    throw new TypeError("Invalid Header: 'upgrade' header must contain 'websocket'");
  }
  if (!listHas(headers.get("connection"), "upgrade")) {
    throw new TypeError("Invalid Header: 'connection' header must contain 'Upgrade'");
  }
  const key = headers.get("sec-websocket-key");
  if (key === null) throw new TypeError("Invalid Header: 'sec-websocket-key' header must be set");
  let protocol = "";
  if (options.protocol !== undefined && options.protocol !== "") {
    const offered = (headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    if (!offered.includes(options.protocol)) {
      throw new TypeError(
        `Protocol '${options.protocol}' not in the request's protocol list (non negotiable)`,
      );
    }
    protocol = options.protocol;
  }
  if (method !== "GET") return reject(400, `a WebSocket handshake is a GET, not ${method}\n`);
  if (headers.get("sec-websocket-version")?.trim() !== "13") {
    return reject(426, "this server speaks WebSocket version 13\n");
  }
  if (!KEY_FORM.test(key.trim())) {
    return reject(400, "Sec-WebSocket-Key is not 16 bytes in base64\n");
  }
  const answer: [string, string][] = [
    ["upgrade", "websocket"],
    ["connection", "Upgrade"],
    ["sec-websocket-accept", acceptKey(key.trim())],
  ];
  if (protocol !== "") answer.push(["sec-websocket-protocol", protocol]);
  const deflate = options.compression
    ? negotiateDeflate(headers.get("sec-websocket-extensions"))
    : null;
  if (deflate !== null) answer.push(["sec-websocket-extensions", deflate.response]);
  return { kind: "accept", headers: answer, protocol, deflate };
}

/** `Sec-WebSocket-Accept` for `key`: base64(SHA-1(key + GUID)), RFC 6455 §4.2.2. */
export function acceptKey(key: string): string {
  const digest = sha1(new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...digest));
}

/**
 * SHA-1 (FIPS 180-4), synchronous: the handshake needs one hash of about 60 bytes, and
 * `crypto.subtle` would make `upgradeWebSocket` async where Deno's is not. SHA-1's weaknesses do
 * not matter here; RFC 6455 uses it only to prove the server read the key.
 */
export function sha1(message: Uint8Array): Uint8Array {
  const length = message.length;
  const blocks = Math.ceil((length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(message);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length * 8) >>> 0);
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0;
  const w = new Uint32Array(80);
  for (let block = 0; block < blocks; block++) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(block * 64 + i * 4);
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4;
    for (let i = 0; i < 80; i++) {
      let f: number, k: number;
      if (i < 20) [f, k] = [(b & c) | (~b & d), 0x5a827999];
      else if (i < 40) [f, k] = [b ^ c ^ d, 0x6ed9eba1];
      else if (i < 60) [f, k] = [(b & c) | (b & d) | (c & d), 0x8f1bbcdc];
      else [f, k] = [b ^ c ^ d, 0xca62c1d6];
      const t = (((a << 5) | (a >>> 27)) + f + e + k + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const digest = new Uint8Array(20);
  const out = new DataView(digest.buffer);
  [h0, h1, h2, h3, h4].forEach((h, i) => out.setUint32(i * 4, h >>> 0));
  return digest;
}
