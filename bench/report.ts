/**
 * Markdown for bench/results.md.
 * Every figure is printed as its median with the min–max of the rounds, next to its ratio to the
 * scenario's baseline peer measured in the same run: on a shared 2-core machine the ratio is the
 * figure that carries from one run to the next, the absolute numbers are context.
 */

import type { Machine, Versions } from "./machine.ts";
import type { Scenario } from "./scenarios.ts";
import { type Figure, figureSpread, type PeerResult, ratio, type ScenarioResult } from "./stats.ts";
import type { Spread } from "./stats.ts";
import { evaluateTargets } from "./targets.ts";

export interface RunSettings {
  rounds: number;
  seconds: number;
  warmupSeconds: number;
  threads: number;
  quick: boolean;
  only: string[] | null;
}

export interface Report {
  date: Date;
  settings: RunSettings;
  machine: Machine;
  versions: Versions;
  results: ScenarioResult[];
}

const num = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}

const cores = (n: number) => Number.isFinite(n) ? `${Math.round(n * 100)}%` : "—";

const FORMAT: Record<Figure, (n: number) => string> = {
  value: (n) => Number.isFinite(n) ? num(n, n < 10 ? 2 : n < 100 ? 1 : 0) : "—",
  p99Ms: fmtMs,
  peakKiB: (n) => Number.isFinite(n) ? `${(n / 1024).toFixed(1)} MiB` : "—",
  serverCpu: cores,
  clientCpu: cores,
};

/** The value column's heading, and the errors column's, for a scenario's metric. */
const HEADINGS: Record<Scenario["metric"], { value: string; errors: string }> = {
  rps: { value: "req/s", errors: "errors" },
  throughput: { value: "MiB/s", errors: "errors" },
  "idle-kib": { value: "KiB / idle conn", errors: "unanswered" },
  msgs: { value: "msg/s", errors: "errors" },
};

function fmtSpread(s: Spread, figure: Figure, rounds: number): string {
  const f = FORMAT[figure];
  if (!Number.isFinite(s.median)) return "—";
  // With one round there is no range to show.
  if (rounds < 2 || s.min === s.max) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

const fmtRatio = (r: number) => Number.isFinite(r) ? `${r.toFixed(2)}×` : "—";

function peerRow(result: ScenarioResult, p: PeerResult): string {
  const label = p.peer === result.scenario.baseline ? `${p.label} (peer)` : p.label;
  if (p.samples.length === 0) {
    return `| ${label} | ${p.notes[0] ?? "no result"} | | | | | | | | |`;
  }
  const figure = (f: Figure) => fmtSpread(figureSpread(p, f), f, p.samples.length);
  const times = (f: Figure) => fmtRatio(ratio(result, p.peer, f));
  const errors = num(p.samples.reduce((sum, s) => sum + s.errors, 0));
  const cells = [
    label,
    figure("value"),
    times("value"),
    figure("p99Ms"),
    times("p99Ms"),
    errors,
    figure("peakKiB"),
    times("peakKiB"),
    figure("serverCpu"),
    figure("clientCpu"),
  ];
  return `| ${cells.join(" | ")} |`;
}

export function renderScenario(result: ScenarioResult): string {
  const s = result.scenario;
  const heading = HEADINGS[s.metric];
  const lines = [
    `### ${s.id}: ${s.title}`,
    "",
    `Measures ${s.measures}.` + (s.cores ? ` Cores: ${s.cores}.` : ""),
    "",
  ];
  if (result.skipped) return [...lines, `Skipped: ${result.skipped}.`].join("\n");
  lines.push(
    `| server | ${heading.value} | × peer | p99 latency | × peer | ${heading.errors} | ` +
      "peak RSS | × peer | server CPU | client CPU |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...result.peers.map((p) => peerRow(result, p)),
  );
  const notes = result.peers.flatMap((p) =>
    p.samples.length > 0 ? p.notes.map((n) => `- ${p.label}: ${n}`) : []
  );
  if (notes.length) lines.push("", ...notes);
  return lines.join("\n");
}

export function renderTargets(results: ScenarioResult[]): string {
  const lines = [
    "| issue | target | goal | measured | met |",
    "| ---: | --- | ---: | ---: | :---: |",
  ];
  for (const { target: t, ratio: r, errors, met } of evaluateTargets(results)) {
    const goal = `${t.op === ">=" ? "≥" : "≤"} ${t.goal}×` + (t.noErrors ? ", 0 errors" : "");
    const measured = fmtRatio(r) +
      (t.noErrors && Number.isFinite(r) ? `, ${num(errors)} errors` : "");
    lines.push(`| ${t.issue} | ${t.what} | ${goal} | ${measured} | ${met} |`);
  }
  return lines.join("\n");
}

/** Targets and tables: the results part of the report. */
function renderTables(report: Report): string {
  return [
    "### Targets",
    "",
    renderTargets(report.results),
    "",
    ...report.results.map(renderScenario).flatMap((t) => [t, ""]),
  ].join("\n").trimEnd();
}

export function renderReport(report: Report): string {
  const { settings: s, machine: m, versions: v } = report;
  const mode = s.quick ? " (--quick: a smoke test of the harness, not a measurement)" : "";
  return [
    "# sockserve benchmark results",
    "",
    `Written by \`deno task bench\` on ${
      report.date.toISOString().slice(0, 16).replace("T", " ")
    } UTC${mode}.`,
    `${s.rounds} round(s), peers interleaved within each scenario (A B C, A B C, …), a fresh server`,
    `process per run, ${s.warmupSeconds} s of warm-up load then ${s.seconds} s measured,`,
    `wrk with ${s.threads} thread(s) unless the scenario says otherwise.` +
    (s.only ? ` Scenarios: ${s.only.join(", ")}.` : ""),
    'Each cell is the median with the min–max over the rounds; "× peer" divides the median by',
    "the median of the row marked (peer). For req/s, MiB/s and msg/s higher is better; for p99",
    "latency, KiB per idle connection and peak RSS lower is better. Errors are socket errors plus",
    "non-2xx/3xx responses (or requests and messages left unanswered), summed over the rounds.",
    "Server CPU and client CPU are the cores the server and the load generator used during the",
    "measured seconds (100% = one core busy all the time).",
    "",
    "## Machine",
    "",
    `- CPU: ${m.cpu}, ${m.cores} cores (nproc)`,
    `- Memory: ${m.memory}`,
    `- Kernel: Linux ${m.kernel}`,
    "",
    "## Versions",
    "",
    `- deno ${v.deno} (V8 ${v.v8})`,
    `- node ${v.node}`,
    `- nginx ${v.nginx}`,
    `- bun ${v.bun}`,
    `- ${v.wrk}`,
    `- sockserve ${v.sockserve}`,
    "",
    "## Results",
    "",
    renderTables(report),
    "",
  ].join("\n");
}
