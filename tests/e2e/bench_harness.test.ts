/**
 * Pieces of the benchmark harness that decide what is measured and how it is shown: the raised
 * descriptor limit and the CPU time of a child (real processes), the target evaluation, the
 * chart drawn from a results file, nginx's config for the idle scenario, and the split of
 * WebSocket connections over client processes.
 */

import assert from "node:assert/strict";
import { rowsFromResults, targetsSvg } from "../../bench/chart.ts";
import { childCpuSeconds, withFdLimit, withFdLimitAndTimes } from "../../bench/launch.ts";
import { nginxConf } from "../../bench/nginx.ts";
import { renderTargets } from "../../bench/report.ts";
import { SCENARIOS } from "../../bench/scenarios.ts";
import type { Sample, ScenarioResult } from "../../bench/stats.ts";
import { evaluateTargets, TARGETS } from "../../bench/targets.ts";
import { split } from "../../bench/ws_load.ts";

async function shellOutput(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("withFdLimit: a command started under a low soft limit runs at the hard limit", async () => {
  const hard = await shellOutput("/bin/sh", ["-c", "ulimit -Hn"]);
  const run = withFdLimit("/bin/sh", ["-c", "ulimit -n"]);
  // Start from a soft limit of 256, as a default shell often has, so the wrapper must raise it.
  const low = ["-c", 'ulimit -Sn 256 && exec "$@"', "sh", run.cmd, ...run.args];
  const soft = await shellOutput("/bin/sh", low);
  assert.equal(soft, hard === "unlimited" ? "65535" : hard);
});

Deno.test("withFdLimitAndTimes: the last lines carry the command's CPU seconds", async () => {
  // A command that burns a little CPU in a child of the wrapped shell.
  const run = withFdLimitAndTimes("/bin/sh", [
    "-c",
    "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done",
  ]);
  const cpu = childCpuSeconds(await shellOutput(run.cmd, run.args));
  assert.ok(cpu > 0 && cpu < 30, `cpu ${cpu}`);
});

Deno.test("childCpuSeconds: reads the children's line of `times` in dash's and bash's formats", () => {
  assert.equal(childCpuSeconds("report\n0m0.010000s 0m0.020000s\n0m1.500000s 0m0.250000s\n"), 1.75);
  assert.equal(childCpuSeconds("0m0.01s 0m0.02s\n1m2.00s 0m0.50s\n"), 62.5);
  assert.ok(Number.isNaN(childCpuSeconds("no times here")));
});

const sample = (value: number, peakKiB: number, errors = 0): Sample => ({
  value,
  p99Ms: 1,
  errors,
  peakKiB,
  serverCpu: 1,
  clientCpu: 0.5,
});

function result(id: string, peers: [string, Sample][]): ScenarioResult {
  const scenario = SCENARIOS.find((s) => s.id === id)!;
  return {
    scenario,
    peers: peers.map(([peer, s]) => ({
      peer: peer as ScenarioResult["peers"][0]["peer"],
      label: peer,
      samples: [s],
      notes: [],
    })),
  };
}

Deno.test("evaluateTargets: ratios against the baseline or the named peer, errors where required", () => {
  const results = [
    result("hello-100", [["sockserve", sample(110, 50)], ["deno", sample(100, 40)]]),
    result("idle-10k", [["sockserve", sample(4, 0, 2)], ["deno", sample(16, 0)]]),
    result("static-1m-100", [
      ["sockserve-cli", sample(90, 100)],
      ["nginx", sample(100, 10)],
      ["deno-static", sample(50, 125)],
    ]),
  ];
  const by = (scenario: string, what: RegExp) =>
    evaluateTargets(results).find((o) =>
      o.target.scenario === scenario && what.test(o.target.what)
    )!;
  assert.deepEqual([by("hello-100", /req\/s/).ratio, by("hello-100", /req\/s/).met], [1.1, "yes"]);
  assert.deepEqual([by("hello-100", /peak memory/).ratio, by("hello-100", /peak memory/).met], [
    1.25,
    "no",
  ]);
  // 0.25× meets ≤ 0.5×, but two requests went unanswered.
  assert.deepEqual([by("idle-10k", /idle/).ratio, by("idle-10k", /idle/).met], [0.25, "no"]);
  assert.deepEqual([by("static-1m-100", /req\/s/).ratio, by("static-1m-100", /req\/s/).met], [
    0.9,
    "no",
  ]);
  assert.deepEqual([by("static-1m-100", /memory/).ratio, by("static-1m-100", /memory/).met], [
    0.8,
    "yes",
  ]);
  assert.equal(by("pipeline", /pipelining/).met, "not measured");
});

Deno.test("every target names a scenario that exists and a peer that the scenario measures", () => {
  for (const t of TARGETS) {
    const scenario = SCENARIOS.find((s) => s.id === t.scenario);
    assert.ok(scenario, `${t.what}: no scenario ${t.scenario}`);
    assert.ok(scenario.peers.includes(t.peer), `${t.what}: ${t.peer} is not in ${t.scenario}`);
    if (t.against) assert.ok(scenario.peers.includes(t.against), `${t.what}: ${t.against}`);
  }
});

Deno.test("rowsFromResults: reads back the targets table the report writes", () => {
  const results = [result("hello-100", [["sockserve", sample(95, 50)], ["deno", sample(100, 40)]])];
  const rows = rowsFromResults(renderTargets(results));
  assert.equal(rows.length, TARGETS.length);
  assert.deepEqual(rows[0], { label: TARGETS[0].what, op: ">=", goal: 1, ratio: 0.95, met: "no" });
  assert.ok(Number.isNaN(rows.find((r) => /pipelining/.test(r.label))!.ratio));
});

Deno.test("targetsSvg: one bar per measured target, a goal mark per target, labels escaped", () => {
  const svg = targetsSvg([
    { label: "a < b & c", op: ">=", goal: 1, ratio: 1.2, met: "yes" },
    { label: "memory", op: "<=", goal: 0.5, ratio: 0.8, met: "no" },
    { label: "later", op: ">=", goal: 4, ratio: NaN, met: "not measured" },
  ], "caption");
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /a &lt; b &amp; c/);
  assert.equal(svg.match(/fill-opacity="0.85"/g)?.length, 2);
  assert.equal(svg.match(/stroke-width="2.5"/g)?.length, 3);
  assert.match(svg, /1\.2×/);
  assert.match(svg, /not measured/);
  assert.match(svg, /goal ≤ 0\.5×/);
});

Deno.test("nginxConf: the idle scenario's connections and keep-alive, and the hello location", () => {
  const base = { dir: "/tmp/x", root: "/tmp/www", port: 8080, workers: 1 };
  const plain = nginxConf(base);
  assert.match(plain, /worker_connections 4096;/);
  assert.match(plain, /keepalive_timeout 65s;/);
  assert.match(plain, /location = \/hello \{[^}]*return 200 "Hello, World!";/);
  const idle = nginxConf({ ...base, workerConnections: 11000, keepAliveSeconds: 60 });
  assert.match(idle, /worker_connections 11000;/);
  assert.match(idle, /keepalive_timeout 60s;/);
});

Deno.test("split: connections spread evenly over the client processes, none empty", () => {
  assert.deepEqual(split(100, 2), [50, 50]);
  assert.deepEqual(split(10, 3), [4, 3, 3]);
  assert.deepEqual(split(1, 2), [1]);
});
