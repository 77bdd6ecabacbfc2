/**
 * `deno task bench`: runs every scenario against its peers, interleaved round by round, and
 * writes bench/results.md. See bench/README.md for what is measured and how to read it.
 *
 * Servers are started and stopped here for every measured run; whatever happens (a failed
 * start, a wrk error, Ctrl-C) nothing started by the benchmark is left running.
 */

import { parseArgs } from "node:util";
import { ensureNginx } from "./nginx.ts";
import { machine, versions } from "./machine.ts";
import { renderReport, type Report, type RunSettings } from "./report.ts";
import { targetsSvg } from "./chart.ts";
import { measure, running } from "./measure.ts";
import { type Scenario, SCENARIOS, STATIC_FILES } from "./scenarios.ts";
import { type Peer, PEERS, StartError } from "./servers.ts";
import type { PeerResult, Sample, ScenarioResult } from "./stats.ts";
import { evaluateTargets } from "./targets.ts";
import { ensureWrk } from "./wrk.ts";

const BENCH = new URL(".", import.meta.url).pathname;
const REPO = new URL("..", import.meta.url).pathname;

const HELP = `Usage: deno task bench [options]

  --quick            1 round, 1 s per run, no warm-up: checks the harness, measures nothing
  --only a,b         run only these scenarios: ids below, or a prefix before "-"
                     (--only hello,pipeline runs hello-10, hello-100, hello-1000 and pipeline;
                     --only cores, --only ws, --only idle-10k)
  --rounds N         interleaved rounds (default 3)
  --duration S       measured seconds per run (default 5)
  --warmup S         seconds of load before each measured run (default 1; 0 for none)
  --threads N        wrk threads (default 1: the other core is the server's)
  --out FILE         where to write the report (default bench/results.md for a full run,
                     bench/results.partial.md with --quick or --only); the targets chart goes
                     next to it (bench/targets.svg, bench/targets.partial.svg)
  --list             list the scenarios and exit
  --help             this text

Scenarios: ${SCENARIOS.map((s) => s.id).join(", ")}`;

interface Options extends RunSettings {
  out: string;
}

/** `--only` names a scenario by its id or by the family before its "-" (hello, static). */
function selects(name: string, s: Scenario): boolean {
  return s.id === name || s.id.startsWith(`${name}-`);
}

function options(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      rounds: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      threads: { type: "string", default: "1" },
      out: { type: "string" },
      list: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return null;
  }
  if (values.list) {
    for (const s of SCENARIOS) console.log(`${s.id.padEnd(14)} ${s.title}`);
    return null;
  }
  const int = (name: string, text: string | undefined, fallback: number, min: number) => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const only = values.only ? values.only.split(",").map((s) => s.trim()).filter(Boolean) : null;
  for (const id of only ?? []) {
    if (!SCENARIOS.some((s) => selects(id, s))) {
      throw new Error(`--only: unknown scenario "${id}" (known: ${SCENARIOS.map((s) => s.id)})`);
    }
  }
  const quick = values.quick;
  const full = !quick && only === null;
  return {
    quick,
    only,
    rounds: int("rounds", values.rounds, quick ? 1 : 3, 1),
    seconds: int("duration", values.duration, quick ? 1 : 5, 1),
    warmupSeconds: int("warmup", values.warmup, quick ? 0 : 1, 0),
    threads: int("threads", values.threads, 1, 1),
    out: values.out ?? `${BENCH}${full ? "results.md" : "results.partial.md"}`,
  };
}

/** The files the static scenarios serve: random bytes, so no layer can compress them away. */
async function writeStaticFiles(dir: string): Promise<void> {
  const random = crypto.getRandomValues(new Uint8Array(64 * 1024));
  for (const [name, size] of Object.entries(STATIC_FILES)) {
    const chunk = name.endsWith(".html") ? pageText(size) : random;
    using file = await Deno.open(`${dir}/${name}`, { write: true, create: true, truncate: true });
    for (let written = 0; written < size;) {
      written += await file.write(chunk.subarray(0, Math.min(chunk.length, size - written)));
    }
  }
  // nginx's workers run as "nobody" when the benchmark runs as root.
  await Deno.chmod(dir, 0o755);
}

/** An HTML page of `size` bytes that compresses about as well as a real one (to about a third). */
function pageText(size: number): Uint8Array {
  const words = ("server socket request response header body stream buffer parse encode field " +
    "value method target status length chunk connection timeout keep alive close file path " +
    "root cache stat index page link style script image font data query host port address " +
    "worker signal listen accept bind read write flush queue limit error retry proxy client")
    .split(" ");
  let seed = 0x2545f491;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % words.length;
  let html = '<!doctype html>\n<html lang="en">\n<head><title>sockserve</title></head>\n<body>\n';
  for (let i = 0; html.length < size; i++) {
    let sentence = "";
    for (let w = 0; w < 14; w++) sentence += `${words[next()]} `;
    html += `<section id="s${i}"><h2>${words[next()]} ${i}</h2><p>${sentence}</p></section>\n`;
  }
  return new TextEncoder().encode(html.slice(0, size));
}

const UNITS: Record<Scenario["metric"], (v: number) => string> = {
  rps: (v) => `${Math.round(v)} req/s`,
  throughput: (v) => `${v.toFixed(1)} MiB/s`,
  "idle-kib": (v) => `${v.toFixed(2)} KiB per idle connection`,
  msgs: (v) => `${Math.round(v)} msg/s`,
};

function describe(s: Sample, scenario: Scenario): string {
  const p99 = Number.isFinite(s.p99Ms) ? `${s.p99Ms.toFixed(2)} ms` : "n/a";
  const cpu = (label: string, n: number) =>
    Number.isFinite(n) ? `, ${label} CPU ${Math.round(n * 100)}%` : "";
  return `${UNITS[scenario.metric](s.value)}, p99 ${p99}, ${s.errors} errors, ` +
    `peak ${(s.peakKiB / 1024).toFixed(1)} MiB` + cpu("server", s.serverCpu) +
    cpu("client", s.clientCpu) + (s.note ? ` (${s.note})` : "");
}

/** nginx serves the static files, and the hello body of the idle scenario from its config. */
const usesNginx = (s: Scenario) => s.peers.some((p) => p.startsWith("nginx"));

async function runScenario(
  scenario: Scenario,
  staticRoot: string,
  o: Options,
  nginxMissing: string | null,
): Promise<ScenarioResult> {
  const result: ScenarioResult = { scenario, peers: [] };
  const usable = new Map<PeerResult, Peer>();
  const skip = (why: string) => {
    result.skipped = why;
    console.error(`[${scenario.id}] skipped: ${why}`);
    return result;
  };
  for (const id of scenario.peers) {
    const peer = PEERS[id];
    const peerResult: PeerResult = { peer: id, label: peer.label, samples: [], notes: [] };
    result.peers.push(peerResult);
    const why = id.startsWith("nginx") && nginxMissing ? nginxMissing : await peer.unavailable();
    if (why && id === scenario.requires) return skip(`${peer.label}: ${why}`);
    if (why) {
      peerResult.notes.push(why);
      console.error(`[${scenario.id}] ${peer.label}: ${why}`);
    } else {
      usable.set(peerResult, peer);
    }
  }
  for (let round = 1; round <= o.rounds; round++) {
    for (const [peerResult, peer] of usable) {
      const tag = `[${scenario.id} ${round}/${o.rounds}] ${peer.label}`;
      try {
        const sample = await measure(peer, scenario, staticRoot, o);
        peerResult.samples.push(sample);
        if (sample.note) peerResult.notes.push(`round ${round}: ${sample.note}`);
        console.error(`${tag}: ${describe(sample, scenario)}`);
      } catch (error) {
        console.error(`${tag}: failed: ${(error as Error).message}`);
        if (!(error instanceof StartError)) {
          peerResult.notes.push(`round ${round}: ${(error as Error).message}`);
          continue;
        }
        // A server that cannot start will not start next round either: don't spend time on it.
        usable.delete(peerResult);
        const why = `not available: did not start (${error.summary})`;
        if (peer.id === scenario.requires) return skip(`${peer.label}: ${why}`);
        peerResult.notes.push(why);
      }
    }
  }
  return result;
}

async function main(): Promise<void> {
  const o = options(Deno.args);
  if (!o) return;
  const scenarios = SCENARIOS.filter((s) => !o.only || o.only.some((id) => selects(id, s)));

  await ensureWrk();
  let nginxMissing: string | null = null;
  if (scenarios.some(usesNginx)) {
    nginxMissing = await ensureNginx().then(() => null, (e) => `not available: ${e.message}`);
  }

  const staticRoot = await Deno.makeTempDir({ prefix: "sockserve-bench-www-" });
  const stopAll = async () => {
    for (const server of running) await server.stop();
    await Deno.remove(staticRoot, { recursive: true }).catch(() => {});
  };
  const onSignal = () => {
    console.error("bench: interrupted, stopping servers…");
    stopAll().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  try {
    if (scenarios.some((s) => s.kind === "static")) await writeStaticFiles(staticRoot);
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      results.push(await runScenario(scenario, staticRoot, o, nginxMissing));
    }
    const report: Report = {
      date: new Date(),
      settings: o,
      machine: machine(),
      versions: await versions(REPO),
      results,
    };
    await Deno.writeTextFile(o.out, renderReport(report) + await companionReports());
    console.error(`bench: wrote ${o.out}`);
    const chart = chartPath(o.out);
    const rows = evaluateTargets(report.results).map((t) => ({
      label: t.target.what,
      op: t.target.op,
      goal: t.target.goal,
      ratio: t.ratio,
      met: t.met,
    }));
    const when = report.date.toISOString().slice(0, 16).replace("T", " ");
    const mode = o.quick ? " (--quick: checks the harness only)" : "";
    const caption = `deno task bench, ${when} UTC, sockserve ${report.versions.sockserve}${mode}`;
    await Deno.writeTextFile(chart, targetsSvg(rows, caption));
    console.error(`bench: wrote ${chart}`);
  } finally {
    await stopAll();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    Deno.exit(1);
  }
}

/** The chart goes next to the report: results.md → targets.svg, results.partial.md → … */
function chartPath(out: string): string {
  const path = out.replace(/results([^/]*)\.md$/, "targets$1.svg");
  return path === out ? `${out.replace(/\.md$/, "")}.targets.svg` : path;
}

/**
 * The figures measured by the other bench tasks (`deno task soak`, `deno task bench:bigfile`),
 * copied into results.md from their own reports so that one file holds every number; each keeps
 * the date of its own run.
 */
async function companionReports(): Promise<string> {
  let text = "";
  for (const name of ["soak-results.md", "bigfile-results.md"]) {
    const report = await Deno.readTextFile(`${BENCH}${name}`).catch(() => null);
    if (report === null) continue;
    // Their headings move one level down, under this report's title.
    text += `\n${report.trim().replace(/^#/gm, "##")}\n`;
  }
  return text;
}
