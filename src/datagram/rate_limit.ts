/**
 * The per-source rate limit of datagram replies: a token bucket per source address, keyed so that
 * rotating through the addresses of one host (an IPv6 /64) gains nothing. See server.ts's module
 * doc for why replies over UDP are limited at all (reflection).
 */
import { parseIpv6 } from "../balancer/ip.ts";

/** Token bucket per source address: `burst` replies at once, refilled at `perSecond`. */
export interface RateLimit {
  /** Bucket size: datagrams a source may send at once. */
  burst: number;
  /** Tokens added per second (fractions allowed). */
  perSecond: number;
  /** Sources remembered at most; the least recently seen are forgotten first. Default 10 000. */
  maxSources?: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<Required<RateLimit>> = Object.freeze({
  burst: 20,
  perSecond: 5,
  maxSources: 10_000,
});

/** The key a source's replies are counted under (see the module doc). */
export function sourceKey(addr: Deno.Addr): string {
  if (addr.transport !== "udp" && addr.transport !== "tcp") {
    return (addr as Deno.UnixAddr).path ?? "";
  }
  const host = addr.hostname.replace(/%.*$/, ""); // drop an IPv6 zone index
  if (!host.includes(":")) return host;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return mapped[1]; // an IPv4 peer of a dual-stack socket
  return ipv6Prefix64(host);
}

/** The first four groups of an IPv6 address, expanded: its /64 prefix. */
function ipv6Prefix64(address: string): string {
  const bytes = parseIpv6(address);
  if (bytes === null) return address; // not an address a socket reports: a key of its own
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return `${groups.join(":")}::/64`;
}

/**
 * Token buckets per source (the classic algorithm: a bucket of `burst` tokens, refilled
 * continuously at `perSecond`, one token per datagram). Buckets live in a Map in least recently
 * seen order (a hit re-inserts its key), so eviction at `maxSources` drops the coldest source.
 */
export class TokenBuckets {
  #burst: number;
  #perMs: number;
  #maxSources: number;
  #now: () => number;
  #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(rate: RateLimit, now: () => number = () => performance.now()) {
    if (!(rate.burst >= 1) || !(rate.perSecond >= 0)) {
      throw new RangeError("rateLimit needs burst >= 1 and perSecond >= 0");
    }
    this.#burst = rate.burst;
    this.#perMs = rate.perSecond / 1000;
    this.#maxSources = rate.maxSources ?? DEFAULT_RATE_LIMIT.maxSources;
    this.#now = now;
  }

  /** Takes a token for `key`; false when its bucket is empty (drop the datagram). */
  take(key: string): boolean {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxSources) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      bucket = { tokens: this.#burst, at: now };
    } else {
      this.#buckets.delete(key);
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
      bucket.at = now;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Sources currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }
}
