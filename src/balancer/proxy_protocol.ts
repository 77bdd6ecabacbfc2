/**
 * The PROXY protocol header (HAProxy's "The PROXY protocol", versions 1 and 2), as a pure function
 * over bytes like the request parser: `parseProxyHeader` says complete (with the header's length,
 * so the bytes after it stay for HTTP), incomplete (wait for more), or error (close).
 *
 * A load balancer that passes TCP through (HAProxy `send-proxy-v2`, AWS NLB, nginx `stream`)
 * writes this header first on each connection, so the server learns the client's address and port
 * although the socket's peer is the balancer.
 *
 * Strict and bounded (spec §2.1: "the receiver MUST ... reject" anything else): one header format
 * or the other from byte 0, a v1 line of at most 107 bytes with single spaces and canonical
 * numbers, a v2 block of at most `maxV2Bytes`, with address lengths and TLVs checked against the
 * block. Section numbers below are the spec's (haproxy/doc/proxy-protocol.txt).
 */
import { formatIp, type IpBytes, parseIpv4, parseIpv6 } from "./ip.ts";

export interface ProxyHeader {
  version: 1 | 2;
  /**
   * "proxy": `source`/`destination` describe the client's original connection (or are null for
   * v1 UNKNOWN and v2 UNSPEC: the receiver then uses the real endpoints, §2.1 and §2.2).
   * "local" (v2 only): the balancer's own connection (a health check); use the real endpoints.
   */
  command: "proxy" | "local";
  source: Deno.Addr | null;
  destination: Deno.Addr | null;
}

export type ProxyParseResult =
  | { status: "complete"; length: number; header: ProxyHeader }
  | { status: "incomplete" }
  | { status: "error"; reason: string };

/** §2.1: "a receiver ... can ... read up to 107 bytes", the longest TCP6 line with its CRLF. */
export const V1_MAX_BYTES = 107;
/**
 * Largest v2 header accepted by default: 16 bytes + 216 for Unix addresses + room for TLVs (AWS
 * and GCP send tens of bytes of them). The spec allows 65 551; we need not buffer that for one.
 */
export const V2_DEFAULT_MAX_BYTES = 1024;

/** §2.2: the 12-byte signature that starts every v2 header. */
export const V2_SIGNATURE = new Uint8Array([
  0x0d,
  0x0a,
  0x0d,
  0x0a,
  0x00,
  0x0d,
  0x0a,
  0x51,
  0x55,
  0x49,
  0x54,
  0x0a,
]);
const V1_PREFIX = new TextEncoder().encode("PROXY ");

const incomplete: ProxyParseResult = { status: "incomplete" };
const error = (reason: string): ProxyParseResult => ({ status: "error", reason });

/** Whether `buf` starts with `prefix`, comparing only the bytes both have. */
function agrees(buf: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(buf.length, prefix.length);
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

/** Parses the header at the start of `buf`. Never throws; never looks past what it needs. */
export function parseProxyHeader(
  buf: Uint8Array,
  maxV2Bytes = V2_DEFAULT_MAX_BYTES,
): ProxyParseResult {
  if (agrees(buf, V2_SIGNATURE)) {
    return buf.length < V2_SIGNATURE.length ? incomplete : parseV2(buf, maxV2Bytes);
  }
  if (agrees(buf, V1_PREFIX)) {
    return buf.length < V1_PREFIX.length ? incomplete : parseV1(buf);
  }
  return error("no PROXY protocol header");
}

// ---- version 1 (§2.1): "PROXY TCP4 1.2.3.4 5.6.7.8 1234 80\r\n" ----

function parseV1(buf: Uint8Array): ProxyParseResult {
  // The CR may be at index 105 at most: with its LF, the line is then 107 bytes.
  const lastCr = V1_MAX_BYTES - 2;
  const limit = Math.min(buf.length, lastCr + 1);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const b = buf[i];
    if (b === 0x0d) {
      if (i + 1 >= buf.length) return incomplete;
      if (buf[i + 1] !== 0x0a) return error("v1 line has a CR without LF");
      end = i;
      break;
    }
    // The line is US-ASCII printable text (§2.1); anything else is refused as soon as it is seen.
    if (b < 0x20 || b > 0x7e) return error("v1 line has a byte that is not printable ASCII");
  }
  if (end === -1) {
    return buf.length > lastCr ? error("v1 line longer than 107 bytes") : incomplete;
  }
  const line = String.fromCharCode(...buf.subarray(V1_PREFIX.length, end));
  const length = end + 2;
  const parts = line.split(" ");
  // §2.1: with UNKNOWN "the receiver must ignore anything presented before the CRLF".
  if (parts[0] === "UNKNOWN") return v1Complete(length, null, null);
  if (parts.length !== 5) return error("v1 line needs protocol, two addresses and two ports");
  const [protocol, src, dst, sport, dport] = parts;
  const parseAddress = protocol === "TCP4" ? parseIpv4 : protocol === "TCP6" ? parseIpv6 : null;
  if (parseAddress === null) return error(`v1 protocol must be TCP4, TCP6 or UNKNOWN`);
  const source = parseAddress(src), destination = parseAddress(dst);
  if (!source || !destination) return error(`v1 address is not a valid ${protocol} address`);
  const sourcePort = parsePort(sport), destinationPort = parsePort(dport);
  if (sourcePort === null || destinationPort === null) return error("v1 port is not 0-65535");
  return v1Complete(length, tcp(source, sourcePort), tcp(destination, destinationPort));
}

/** A decimal port, 0–65535, without leading zeros (§2.1 describes ports as such numbers). */
function parsePort(text: string): number | null {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function v1Complete(
  length: number,
  source: Deno.Addr | null,
  destination: Deno.Addr | null,
): ProxyParseResult {
  return {
    status: "complete",
    length,
    header: { version: 1, command: "proxy", source, destination },
  };
}

function tcp(bytes: IpBytes, port: number): Deno.NetAddr {
  return { transport: "tcp", hostname: formatIp(bytes), port };
}

// ---- version 2 (§2.2): signature, ver/cmd, fam/proto, length, addresses, TLVs ----

const V2_HEADER_BYTES = 16;
/** §2.2: address block sizes by family: INET, INET6, UNIX. */
const ADDRESS_BYTES = { inet: 12, inet6: 36, unix: 216 } as const;

function parseV2(buf: Uint8Array, maxBytes: number): ProxyParseResult {
  if (buf.length < V2_HEADER_BYTES) return incomplete;
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return error("v2 version must be 2");
  const command = verCmd & 0x0f;
  if (command > 1) return error("v2 command must be LOCAL or PROXY");
  const famProto = buf[13];
  const blockBytes = (buf[14] << 8) | buf[15];
  const length = V2_HEADER_BYTES + blockBytes;
  if (length > maxBytes) return error(`v2 header of ${length} bytes is larger than ${maxBytes}`);
  if (buf.length < length) return incomplete;
  const block = buf.subarray(V2_HEADER_BYTES, length);

  // §2.2: LOCAL "the receiver must accept this connection as valid and must use the real
  // connection endpoints and discard the protocol block including the family"; UNSPEC likewise.
  if (command === 0 || famProto === 0x00) {
    return v2Complete(length, command === 0 ? "local" : "proxy", null, null);
  }
  let source: Deno.Addr | null = null, destination: Deno.Addr | null = null;
  let used = 0;
  switch (famProto) {
    case 0x11: // TCP over IPv4
      used = ADDRESS_BYTES.inet;
      if (blockBytes < used) return error("v2 block too short for IPv4 addresses");
      source = tcp(block.slice(0, 4), readPort(block, 8));
      destination = tcp(block.slice(4, 8), readPort(block, 10));
      break;
    case 0x21: // TCP over IPv6
      used = ADDRESS_BYTES.inet6;
      if (blockBytes < used) return error("v2 block too short for IPv6 addresses");
      source = tcp(block.slice(0, 16), readPort(block, 32));
      destination = tcp(block.slice(16, 32), readPort(block, 34));
      break;
    case 0x31: { // UNIX stream
      used = ADDRESS_BYTES.unix;
      if (blockBytes < used) return error("v2 block too short for Unix addresses");
      source = { transport: "unix", path: unixPath(block.subarray(0, 108)) };
      destination = { transport: "unix", path: unixPath(block.subarray(108, 216)) };
      break;
    }
    case 0x12:
    case 0x22:
    case 0x32:
      return error("v2 header describes a datagram connection, not a stream");
    default:
      // §2.2: "Other values are unspecified and ... must be rejected as invalid by receivers."
      return error(`v2 family/protocol 0x${famProto.toString(16).padStart(2, "0")} is unknown`);
  }
  // §2.2.7: the rest of the block is TLVs. Their contents are not used here, but each must fit,
  // so that a malformed block is refused rather than half read.
  for (let at = used; at < blockBytes;) {
    if (blockBytes - at < 3) return error("v2 TLV header is cut short");
    const tlvBytes = (block[at + 1] << 8) | block[at + 2];
    at += 3 + tlvBytes;
    if (at > blockBytes) return error("v2 TLV runs past the end of the header");
  }
  return v2Complete(length, "proxy", source, destination);
}

function readPort(block: Uint8Array, at: number): number {
  return (block[at] << 8) | block[at + 1];
}

/** A sun_path: the bytes up to the first NUL (§2.2: "unix ... 108 bytes ... NUL-padded"). */
function unixPath(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul === -1 ? bytes : bytes.subarray(0, nul));
}

function v2Complete(
  length: number,
  command: "proxy" | "local",
  source: Deno.Addr | null,
  destination: Deno.Addr | null,
): ProxyParseResult {
  return { status: "complete", length, header: { version: 2, command, source, destination } };
}
