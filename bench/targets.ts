/**
 * The issues' speed and memory targets, and how one run's results measure up to them: the table at
 * the top of the results and the chart (bench/chart.ts) both come from `evaluateTargets`.
 */

import type { PeerId } from "./servers.ts";
import { ratio, type ScenarioResult } from "./stats.ts";

/** The issues' targets, checked against one run's ratios. */
export interface Target {
  /** The issue that set it. */
  issue: number;
  scenario: string;
  peer: PeerId;
  /** The peer the ratio is taken against; default the scenario's baseline. */
  against?: PeerId;
  what: string;
  /** Which ratio: the scenario's main figure or the peak memory. */
  figure: "value" | "memory";
  /** The ratio must be at least this (`>=`) or at most this (`<=`). */
  op: ">=" | "<=";
  goal: number;
  /** Also required: no errors (unanswered requests) in any round. */
  noErrors?: boolean;
}

const target = (
  issue: number,
  scenario: string,
  peer: PeerId,
  what: string,
  op: ">=" | "<=",
  goal: number,
  more: Partial<Target> = {},
): Target => ({ issue, scenario, peer, what, figure: "value", op, goal, ...more });

export const TARGETS: Target[] = [
  target(
    23,
    "hello-100",
    "sockserve",
    "hello world, 100 connections: req/s vs Deno.serve",
    ">=",
    1,
  ),
  target(
    23,
    "hello-100",
    "sockserve",
    "peak memory under hello-world load vs Deno.serve",
    "<=",
    1.2,
    {
      figure: "memory",
    },
  ),
  target(
    23,
    "hello-100",
    "sockserve-portable",
    "portable path (SOCKSERVE_PORTABLE=1), hello world, 100 connections: req/s vs Deno.serve",
    ">=",
    0.85,
  ),
  target(
    23,
    "hello-1000",
    "sockserve",
    "hello world, 1,000 busy connections: req/s vs Deno.serve, no errors",
    ">=",
    1,
    { noErrors: true },
  ),
  target(
    23,
    "pipeline",
    "sockserve",
    "hello world, 16-deep pipelining: req/s vs Deno.serve",
    ">=",
    4,
  ),
  target(
    23,
    "idle-10k",
    "sockserve",
    "10,000 idle connections: memory per connection vs Deno.serve, all answered",
    "<=",
    0.5,
    { noErrors: true },
  ),
  target(
    23,
    "static-1k",
    "sockserve-cli",
    "1 KiB static file, 100 connections: req/s vs nginx",
    ">=",
    1,
  ),
  target(
    23,
    "static-1m-100",
    "sockserve-cli",
    "1 MiB static file, 100 connections: req/s vs nginx",
    ">=",
    1,
  ),
  target(
    23,
    "static-1m-100",
    "sockserve-cli",
    "1 MiB static file, 100 connections: peak memory vs Deno.serve's file server",
    "<=",
    1,
    { figure: "memory", against: "deno-static" },
  ),
  target(
    23,
    "cores-hello",
    "sockserve-w2",
    "all cores, hello world: serveWorkers 2 vs deno serve --parallel (2 isolates)",
    ">=",
    1,
  ),
  target(
    23,
    "cores-static",
    "sockserve-cli-w2",
    "all cores, 1 KiB static: --workers 2 vs nginx with 2 workers",
    ">=",
    1,
  ),
  target(
    21,
    "ws-small",
    "sockserve-ws",
    "WebSocket echo, small messages: msg/s vs Deno.serve + Deno.upgradeWebSocket",
    ">=",
    1,
  ),
];

/** One target as measured in a run. */
export interface TargetOutcome {
  target: Target;
  /** The measured ratio; NaN when the scenario or a peer was not measured. */
  ratio: number;
  /** Errors summed over the rounds of the target's peer. */
  errors: number;
  met: "yes" | "no" | "not measured";
}

export function evaluateTargets(results: ScenarioResult[]): TargetOutcome[] {
  return TARGETS.map((t) => {
    const result = results.find((r) => r.scenario.id === t.scenario);
    const figure = t.figure === "memory" ? "peakKiB" : "value";
    const r = result ? ratio(result, t.peer, figure, t.against) : NaN;
    const mine = result?.peers.find((p) => p.peer === t.peer);
    const errors = mine?.samples.reduce((sum, s) => sum + s.errors, 0) ?? 0;
    const met = !Number.isFinite(r)
      ? "not measured"
      : (t.op === ">=" ? r >= t.goal : r <= t.goal) && (!t.noErrors || errors === 0)
      ? "yes"
      : "no";
    return { target: t, ratio: r, errors, met };
  });
}
