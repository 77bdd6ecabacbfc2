/**
 * The demo's live statistics: the counters of its TCP, Unix and UDP servers, summed into the
 * sample that /api/events streams (the shape www/app.js documents).
 */
import type { ServerStats } from "../src/options.ts";

/** What the live panel draws; one of these per second. */
export interface LiveStats {
  /** Milliseconds since the epoch when the sample was taken. */
  time: number;
  /** Open TCP and Unix connections now; UDP: distinct peers heard from in the last second. */
  connections: { tcp: number; unix: number; udp: number };
  /** Requests answered in the last second, all transports together. */
  requestsPerSecond: number;
  /** Bytes from clients since the start, all transports. */
  bytesIn: number;
  /** Bytes to clients since the start, all transports. */
  bytesOut: number;
}

/** A server as the sampler sees it: something with `stats()` (null: that transport is off). */
export interface StatsSource {
  stats(): ServerStats;
}

export interface Sources {
  tcp: StatsSource | null;
  unix: StatsSource | null;
  udp: StatsSource | null;
}

const ZERO: ServerStats = {
  connections: 0,
  requests: 0,
  bytesIn: 0,
  bytesOut: 0,
  engineErrors: 0,
};

/**
 * Turns running totals into per-second rates. `tick()` is called once a second; `sample()` may be
 * called at any time (a new stream's first event) and reports the rate of the last full second.
 */
export class StatsSampler {
  #sources: Sources;
  #now: () => number;
  #lastRequests: number | null = null;
  #requestsPerSecond = 0;

  constructor(sources: Sources, now: () => number = Date.now) {
    this.#sources = sources;
    this.#now = now;
  }

  /** Closes the current one-second window: the request rate is measured over it. */
  tick(): LiveStats {
    const stats = this.sample();
    const requests = this.#totalRequests();
    this.#requestsPerSecond = this.#lastRequests === null ? 0 : requests - this.#lastRequests;
    this.#lastRequests = requests;
    return { ...stats, requestsPerSecond: this.#requestsPerSecond };
  }

  /** The counters now, with the request rate of the last closed window. */
  sample(): LiveStats {
    const tcp = this.#sources.tcp?.stats() ?? ZERO;
    const unix = this.#sources.unix?.stats() ?? ZERO;
    const udp = this.#sources.udp?.stats() ?? ZERO;
    return {
      time: this.#now(),
      connections: { tcp: tcp.connections, unix: unix.connections, udp: udp.connections },
      requestsPerSecond: this.#requestsPerSecond,
      bytesIn: tcp.bytesIn + unix.bytesIn + udp.bytesIn,
      bytesOut: tcp.bytesOut + unix.bytesOut + udp.bytesOut,
    };
  }

  #totalRequests(): number {
    const { tcp, unix, udp } = this.#sources;
    return (tcp?.stats().requests ?? 0) + (unix?.stats().requests ?? 0) +
      (udp?.stats().requests ?? 0);
  }
}
