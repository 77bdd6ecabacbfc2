/**
 * What the benchmark measures: each scenario is a wrk load against a set of peers, one of which
 * is the baseline every ratio is taken against. Data only; bench/run.ts executes it.
 */

import type { PeerId } from "./servers.ts";

const LUA = new URL("./lua/", import.meta.url).pathname;

export interface Scenario {
  id: string;
  title: string;
  /** One sentence for the README and the results: what the figure tells a reader. */
  measures: string;
  /** `hello` runs the shared handler; `static` serves the generated files. */
  kind: "hello" | "static";
  path: string;
  connections: number;
  /** Overrides the run's wrk thread count (the workers scenario needs load from both cores). */
  threads?: number;
  headers?: string[];
  script?: string;
  scriptArgs?: string[];
  /** `rps`: responses per second; `throughput`: MiB/s of response bytes (big downloads). */
  metric: "rps" | "throughput";
  peers: PeerId[];
  baseline: PeerId;
  /** wrk's per-request timeout; raised where one response is large. */
  timeoutSeconds?: number;
  /**
   * The peer this scenario is about: when it cannot run, the others are not measured either
   * (they would be a table comparing nothing).
   */
  requires?: PeerId;
}

const HELLO_PEERS: PeerId[] = ["sockserve", "deno", "node"];
const STATIC_PEERS: PeerId[] = ["sockserve-cli", "nginx", "deno-fileserver"];

export const SCENARIOS: Scenario[] = [
  {
    id: "hello-10",
    title: "hello world, keep-alive, 10 connections",
    measures: "per-request cost of the engine when latency, not concurrency, dominates",
    kind: "hello",
    path: "/",
    connections: 10,
    metric: "rps",
    peers: HELLO_PEERS,
    baseline: "deno",
  },
  {
    id: "hello-100",
    title: "hello world, keep-alive, 100 connections",
    measures: "per-request cost of the engine with many connections ready at once",
    kind: "hello",
    path: "/",
    connections: 100,
    metric: "rps",
    peers: HELLO_PEERS,
    baseline: "deno",
  },
  {
    id: "pipeline",
    title: "hello world, 16-deep pipelining, 10 connections",
    measures: "whether answers to a batch of buffered requests are gathered into few writes",
    kind: "hello",
    path: "/",
    connections: 10,
    script: `${LUA}pipeline.lua`,
    scriptArgs: ["16"],
    metric: "rps",
    peers: HELLO_PEERS,
    baseline: "deno",
  },
  {
    id: "close",
    title: "hello world, a new connection per request (Connection: close), 10 connections",
    measures: "accept, connection setup and teardown: the cost of one request on a fresh socket",
    kind: "hello",
    path: "/",
    connections: 10,
    headers: ["Connection: close"],
    metric: "rps",
    peers: HELLO_PEERS,
    baseline: "deno",
  },
  {
    id: "post-64k",
    title: "64 KiB POST echoed back, 10 connections",
    measures: "reading a request body and writing it back: body framing and copies",
    kind: "hello",
    path: "/echo",
    connections: 10,
    script: `${LUA}post.lua`,
    scriptArgs: ["65536"],
    metric: "rps",
    peers: HELLO_PEERS,
    baseline: "deno",
  },
  {
    id: "static-1k",
    title: "1 KiB static file, keep-alive, 100 connections",
    measures: "the file server's per-request cost: path resolution, stat, headers, small reads",
    kind: "static",
    path: "/1k.bin",
    connections: 100,
    metric: "rps",
    peers: STATIC_PEERS,
    baseline: "nginx",
  },
  {
    id: "static-1m",
    title: "1 MiB static file, keep-alive, 10 connections",
    measures: "moving file bytes to the socket: read sizes, buffer reuse, write batching",
    kind: "static",
    path: "/1m.bin",
    connections: 10,
    metric: "rps",
    peers: STATIC_PEERS,
    baseline: "nginx",
  },
  {
    id: "static-gzip",
    title: "16 KiB HTML page, gzip asked for as browsers do, keep-alive, 100 connections",
    measures:
      "content coding: compressing each response (nginx, at level 1) or a coded copy kept in memory",
    kind: "static",
    path: "/page.html",
    connections: 100,
    headers: ["Accept-Encoding: gzip"],
    metric: "rps",
    peers: STATIC_PEERS,
    baseline: "nginx",
  },
  {
    id: "download-100m",
    title: "100 MiB download, 1 connection (MiB/s)",
    measures: "streaming throughput of one large response, and the memory it takes",
    kind: "static",
    path: "/100m.bin",
    connections: 1,
    metric: "throughput",
    peers: STATIC_PEERS,
    baseline: "nginx",
    timeoutSeconds: 30,
  },
  {
    id: "workers",
    title: "--workers 2 against one worker: 1 KiB static file, 100 connections, 2 wrk threads",
    measures: "how the CLI's multi-process/multi-worker mode scales on this machine's cores",
    kind: "static",
    path: "/1k.bin",
    connections: 100,
    threads: 2,
    metric: "rps",
    peers: ["sockserve-cli-w2", "sockserve-cli", "nginx-w2"],
    baseline: "sockserve-cli",
    requires: "sockserve-cli-w2",
  },
];

/** The targets, checked against one run's ratios. */
export interface Target {
  scenario: string;
  peer: PeerId;
  what: string;
  /** Which ratio: the scenario's main figure or the peak memory. */
  figure: "value" | "memory";
  /** The ratio must be at least this (`>=`) or at most this (`<=`). */
  op: ">=" | "<=";
  goal: number;
}

export const TARGETS: Target[] = [
  {
    scenario: "hello-100",
    peer: "sockserve",
    what: "hello world, keep-alive, 100 connections: req/s vs Deno.serve",
    figure: "value",
    op: ">=",
    goal: 0.9,
  },
  {
    scenario: "pipeline",
    peer: "sockserve",
    what: "hello world, 16-deep pipelining: req/s vs Deno.serve",
    figure: "value",
    op: ">=",
    goal: 2.0,
  },
  {
    scenario: "static-1k",
    peer: "sockserve-cli",
    what: "1 KiB static file, 100 connections: req/s vs nginx",
    figure: "value",
    op: ">=",
    goal: 0.8,
  },
  {
    scenario: "static-1m",
    peer: "sockserve-cli",
    what: "1 MiB static file, 10 connections: req/s vs nginx",
    figure: "value",
    op: ">=",
    goal: 1.0,
  },
  {
    scenario: "hello-100",
    peer: "sockserve",
    what: "peak memory under hello-world load vs Deno.serve",
    figure: "memory",
    op: "<=",
    goal: 1.5,
  },
];

/**
 * Files the static scenarios serve, written once per benchmark run: random bytes for `.bin` (no
 * coding shrinks them), text for `.html`.
 */
export const STATIC_FILES: Record<string, number> = {
  "1k.bin": 1024,
  "1m.bin": 1024 * 1024,
  "100m.bin": 100 * 1024 * 1024,
  "page.html": 16 * 1024,
};
