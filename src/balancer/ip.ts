/**
 * IP address literals and CIDR lists, strictly: the PROXY protocol parser and the trusted-proxy
 * lists (`proxyProtocol.trusted`, `trustProxy`) both decide on these bytes, so an address must
 * have exactly one reading. IPv4 is dotted-decimal only (no octal, hex or short forms, which
 * `inet_aton` and URL parsers accept); IPv6 is RFC 4291 §2.2 text without a zone.
 */

/** Four (IPv4) or sixteen (IPv6) bytes. */
export type IpBytes = Uint8Array;

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** "a.b.c.d" with each part 0–255 and no leading zeros; null otherwise. */
export function parseIpv4(text: string): IpBytes | null {
  const match = IPV4.exec(text);
  if (!match) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(match[i + 1]);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

/** RFC 4291 §2.2 text (with "::" and a trailing dotted IPv4); no zone index. Null otherwise. */
export function parseIpv6(text: string): IpBytes | null {
  if (text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  // An embedded IPv4 address may only end the address.
  if (halves.length === 2 && halves[0].includes(".")) return null;
  const count = head.length + tail.length;
  if (halves.length === 2 ? count > 7 : count !== 8) return null;
  const all = [...head, ...new Array(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** Either family; an IPv6 literal may come in brackets (as in URLs and `Forwarded`). */
export function parseIp(text: string): IpBytes | null {
  if (text.startsWith("[") && text.endsWith("]")) return parseIpv6(text.slice(1, -1));
  return text.includes(":") ? parseIpv6(text) : parseIpv4(text);
}

/** Dotted decimal, or RFC 5952 text: lower case, the longest run of zero groups as "::". */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return bytes.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let best = -1, bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (best === -1) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLength))}`;
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else the bytes as is. */
function unmap(bytes: IpBytes): IpBytes {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.subarray(12) : bytes;
}

interface Cidr {
  bytes: IpBytes;
  bits: number;
}

/** A set of address ranges ("10.0.0.0/8", "::1", "fd00::/8") that can answer "is X inside?". */
export class CidrList {
  readonly #ranges: Cidr[];

  /** Throws a `TypeError` naming the first entry that is not an address or CIDR range. */
  constructor(entries: readonly string[]) {
    this.#ranges = entries.map(parseCidr);
  }

  get size(): number {
    return this.#ranges.length;
  }

  /** Whether the address (text or bytes) lies in one of the ranges; false for non-addresses. */
  has(address: string | IpBytes): boolean {
    const parsed = typeof address === "string" ? parseIp(address) : address;
    if (!parsed) return false;
    const bytes = unmap(parsed);
    return this.#ranges.some((range) => inRange(bytes, range) || inRange(parsed, range));
  }
}

function parseCidr(entry: string): Cidr {
  const slash = entry.indexOf("/");
  const address = slash === -1 ? entry : entry.slice(0, slash);
  const parsed = parseIp(address);
  const max = parsed?.length === 4 ? 32 : 128;
  const bitsText = slash === -1 ? String(max) : entry.slice(slash + 1);
  const bits = /^(0|[1-9]\d{0,2})$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!parsed || !(bits <= max)) {
    throw new TypeError(`"${entry}" is not an IP address or CIDR range (like 10.0.0.0/8)`);
  }
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8: mapped ranges are kept as IPv4, as addresses are. A
  // shorter prefix covers more than the mapped space and stays IPv6.
  const bytes = bits >= 96 ? unmap(parsed) : parsed;
  return { bytes, bits: bits - (parsed.length - bytes.length) * 8 };
}

function inRange(bytes: IpBytes, range: Cidr): boolean {
  if (bytes.length !== range.bytes.length) return false;
  let bits = range.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}
