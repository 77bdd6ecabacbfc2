/**
 * `deno run --allow-all bench/connection_sweep.ts [--peer ID] [--seconds S] [N …]`: hello world's
 * rate and 99th percentile latency as the number of busy keep-alive connections grows, for one
 * peer (`sockserve` by default, or `deno`), on one server started for the whole sweep.
 *
 * It measures where a server stops serving its connections in turn. sockserve's reads all complete
 * from one tokio task in Deno's core, which may complete about 128 socket operations per poll; past
 * that the latency jumps (bench/README.md, "hello-1000"). Each step gets 1 s of warm-up load, then
 * S seconds measured (3 by default) with one wrk thread. The line after the table names the first
 * step whose p99 is ten times the first step's, if any.
 */

import { parseArgs } from "node:util";
import { type PeerId, PEERS } from "./servers.ts";
import { ensureWrk, runWrk } from "./wrk.ts";

/** One step of the sweep. */
export interface SweepStep {
  connections: number;
  requestsPerSec: number;
  p99Ms: number;
}

/** Connection counts swept when none are given: around 128, then up to the hello-1000 scenario. */
export const DEFAULT_COUNTS = [100, 120, 128, 140, 160, 200, 400, 1000];

/**
 * The first step whose p99 latency is at least `factor` times the first step's, or null when
 * none is (or the first step has no p99).
 */
export function kneeOf(steps: readonly SweepStep[], factor = 10): SweepStep | null {
  const base = steps[0]?.p99Ms;
  if (base === undefined || !(base > 0)) return null;
  return steps.find((step) => step.p99Ms >= base * factor) ?? null;
}

/** The sweep as a Markdown table. */
export function sweepTable(steps: readonly SweepStep[]): string {
  const rows = steps.map((step) =>
    `| ${step.connections} | ${Math.round(step.requestsPerSec)} | ${step.p99Ms.toFixed(2)} ms |`
  );
  return ["| connections | req/s | p99 |", "| ---: | ---: | ---: |", ...rows].join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { peer: { type: "string", default: "sockserve" }, seconds: { type: "string" } },
  });
  const peerId = values.peer as PeerId;
  const peer = PEERS[peerId];
  const seconds = Number(values.seconds ?? 3);
  const counts = positionals.length > 0 ? positionals.map(Number) : DEFAULT_COUNTS;
  if (peer === undefined || !["sockserve", "deno"].includes(peerId)) {
    console.error(`connection_sweep: --peer must be sockserve or deno, not "${values.peer}"`);
    Deno.exit(2);
  }
  if (!(seconds >= 1) || counts.some((n) => !Number.isInteger(n) || n < 1)) {
    console.error("connection_sweep: --seconds must be at least 1, and counts whole numbers");
    Deno.exit(2);
  }
  await ensureWrk();
  const scratch = await Deno.makeTempDir({ prefix: "sockserve-sweep-" });
  const server = await peer.start({ staticRoot: scratch, scratch });
  const steps: SweepStep[] = [];
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    for (const connections of counts) {
      const load = { url, connections, threads: 1, timeoutSeconds: 10 };
      await runWrk({ ...load, seconds: 1 });
      const result = await runWrk({ ...load, seconds });
      steps.push({ connections, requestsPerSec: result.requestsPerSec, p99Ms: result.p99Ms });
      console.error(`${connections} connections: p99 ${result.p99Ms.toFixed(2)} ms`);
    }
  } finally {
    await server.stop();
    await Deno.remove(scratch, { recursive: true });
  }
  console.log(`${peer.label}, hello world, wrk -t1, ${seconds} s a step\n`);
  console.log(sweepTable(steps));
  const knee = kneeOf(steps);
  console.log(
    knee === null
      ? "\nno step's p99 reached ten times the first's"
      : `\nfirst step at ten times the first p99: ${knee.connections} connections`,
  );
}
