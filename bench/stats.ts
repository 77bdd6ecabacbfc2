/**
 * The numbers behind the table: a median with its range per figure, and ratios to the baseline.
 * Medians because a 2-core machine shared with other work produces outliers in both directions;
 * the range is printed so a reader sees how much to trust the median.
 */

import type { PeerId } from "./servers.ts";
import type { Scenario } from "./scenarios.ts";

/** One measured run of one server. */
export interface Sample {
  /** req/s; MiB/s, KiB per idle connection or messages/s as the scenario's metric says. */
  value: number;
  p99Ms: number;
  /** Socket errors plus non-2xx/3xx responses, or requests / messages left unanswered. */
  errors: number;
  /** Peak resident memory (sum of VmHWM over the server's processes), KiB. */
  peakKiB: number;
  /** CPU the server used during the measured seconds, in cores (1 = one core all the time). */
  serverCpu: number;
  /** CPU the load generator used during the measured seconds, in cores. */
  clientCpu: number;
  /** Something the reader should know about this run (the first error a load tool saw). */
  note?: string;
}

export interface PeerResult {
  peer: PeerId;
  label: string;
  samples: Sample[];
  /** Why there are fewer samples than rounds: not available, failed to start, wrk failed… */
  notes: string[];
}

export interface ScenarioResult {
  scenario: Scenario;
  peers: PeerResult[];
  /** Set when the scenario was skipped as a whole, and why. */
  skipped?: string;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median and range of the finite values; NaN everywhere when there are none. */
export function spread(values: number[]): Spread {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1] };
}

export type Figure = "value" | "p99Ms" | "peakKiB" | "serverCpu" | "clientCpu";

export function figureSpread(r: PeerResult, figure: Figure): Spread {
  return spread(r.samples.map((s) => s[figure]));
}

/**
 * median(peer) / median(against) for one figure, `against` being the scenario's baseline unless
 * given; NaN when either is missing.
 */
export function ratio(
  result: ScenarioResult,
  peer: PeerId,
  figure: Figure,
  against: PeerId = result.scenario.baseline,
): number {
  const of = (id: PeerId) => result.peers.find((p) => p.peer === id);
  const mine = of(peer);
  const base = of(against);
  if (!mine || !base) return NaN;
  return figureSpread(mine, figure).median / figureSpread(base, figure).median;
}
