/**
 * The clock of a server's connection timeouts: one coarse ticker for all of them, instead of a
 * timer per connection (a setTimeout/clearTimeout pair per request cost 7.6% of the hello-world
 * profile). A connection arms its timeout with field writes; the ticker stamps it at its first
 * tick and expires it when it has run out (`Expiring.expireBy`).
 */
import type { Limits } from "../options.ts";
import { Registry } from "./registry.ts";
import { repeatEvery } from "../deno/timer.ts";

/** What the ticker watches: a connection, whose armed timeout it checks at each tick. */
export interface Expiring {
  /** Stamps an armed timeout seen for the first time, or acts on one that ran out by `now`. */
  expireBy(now: number): void;
}

/** A connection's deadline when its timeout was armed since the ticker's last tick. */
export const UNSTAMPED = -1;

/**
 * What a connection's timeout is armed for, and so what its expiry does: the next request
 * (`idle`, also a body left to drain and a PROXY header: the connection closes), the rest of a head
 * under way (`head`: a 408, then the close), or a write the client does not take in (`write`: the
 * close).
 */
export type TimeoutKind = "idle" | "head" | "write";

/**
 * A connection's one timeout, as data: armed and disarmed with field writes (no timer, no clock
 * read: a setTimeout/clearTimeout pair per request cost 7.6% of the hello-world profile, reading
 * the clock at each arm 8%); the ticker stamps and checks it (`ranOut`).
 */
export interface Timeout {
  kind: TimeoutKind;
  /** Its length in ms. */
  ms: number;
  /**
   * When it expires (epoch ms); `UNSTAMPED` while armed and not yet seen by the ticker; Infinity
   * when none is armed.
   */
  deadline: number;
}

/** A timeout with none armed. */
export function newTimeout(): Timeout {
  return { kind: "idle", ms: 0, deadline: Infinity };
}

/** Arms `timeout` for `ms` from the ticker's next tick, for `kind`. */
export function arm(timeout: Timeout, ms: number, kind: TimeoutKind): void {
  timeout.deadline = UNSTAMPED;
  timeout.ms = ms;
  timeout.kind = kind;
}

export function disarm(timeout: Timeout): void {
  timeout.deadline = Infinity;
}

/** Whether a timeout is armed (stamped or not). */
export function armed(timeout: Timeout): boolean {
  return timeout.deadline !== Infinity;
}

/**
 * Called at each tick: stamps a timeout armed since the last one (it counts from now, so it never
 * fires early) and says whether an armed one ran out by `now` (it is then disarmed).
 */
export function ranOut(timeout: Timeout, now: number): boolean {
  if (timeout.deadline === UNSTAMPED) {
    timeout.deadline = now + timeout.ms;
    return false;
  }
  if (now < timeout.deadline) return false;
  timeout.deadline = Infinity;
  return true;
}

/** Bounds of the ticker's period: fine enough for short test timeouts, idle when they are long. */
const MIN_TICK_MS = 5;
const MAX_TICK_MS = 1000;

/**
 * One coarse clock per server for the timeouts of all its connections. It ticks only while
 * connections are open, every tenth of the shortest timeout (within the bounds above). A timeout
 * is stamped at the first tick after it was armed and fires at the first tick after it ran out,
 * so it fires at most two ticks late and never early.
 */
export class DeadlineTicker {
  #connections = new Registry<Expiring>();
  #period: number;
  /** Stops the ticking; set while it ticks. */
  #stop: (() => void) | undefined;

  constructor(limits: Pick<Limits, "headersTimeout" | "keepAliveTimeout" | "writeTimeout">) {
    const shortest = Math.min(
      limits.headersTimeout,
      limits.keepAliveTimeout,
      limits.writeTimeout > 0 ? limits.writeTimeout : Infinity,
    );
    this.#period = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(shortest / 10)));
  }

  /** Whether the ticking keeps the process alive (see `HttpServer.unref`). */
  #refed = true;

  /** Watches `connection`'s timeouts; returns the slot that `delete` takes. */
  add(connection: Expiring): number {
    const slot = this.#connections.add(connection);
    this.#stop ??= repeatEvery(this.#period, () => this.#tick(), this.#refed);
    return slot;
  }

  setRef(refed: boolean): void {
    this.#refed = refed;
    if (this.#stop === undefined) return;
    this.#stop();
    this.#stop = repeatEvery(this.#period, () => this.#tick(), refed);
  }

  delete(slot: number): void {
    this.#connections.delete(slot);
    if (this.#connections.size === 0 && this.#stop !== undefined) {
      this.#stop();
      this.#stop = undefined;
    }
  }

  #tick(): void {
    const now = Date.now();
    for (const connection of this.#connections) connection.expireBy(now);
  }
}
