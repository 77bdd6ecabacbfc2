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
  /** `hello` runs the shared handler; `static` serves the generated files; `ws` echoes. */
  kind: "hello" | "static" | "ws";
  path: string;
  connections: number;
  /** Overrides the run's wrk thread count (the all-cores scenarios load from both cores). */
  threads?: number;
  headers?: string[];
  script?: string;
  scriptArgs?: string[];
  /**
   * `rps`: responses per second; `throughput`: MiB/s of response bytes (big downloads);
   * `idle-kib`: server memory per idle connection (lower is better); `msgs`: WebSocket messages
   * echoed per second.
   */
  metric: "rps" | "throughput" | "idle-kib" | "msgs";
  peers: PeerId[];
  baseline: PeerId;
  /** wrk's per-request timeout; raised where one response is large. */
  timeoutSeconds?: number;
  /**
   * The peer this scenario is about: when it cannot run, the others are not measured either
   * (they would be a table comparing nothing).
   */
  requires?: PeerId;
  /** Set for the idle-connection load (bench/idle_load.ts) instead of wrk. */
  idle?: IdleLoad;
  /** Set for the WebSocket echo load (bench/ws_load.ts) instead of wrk. */
  ws?: WsLoad;
  /** How the load generator and the server share the machine's cores, said in the report. */
  cores?: string;
}

export interface IdleLoad {
  /** Connections opened, one request each, then held idle. */
  connections: number;
  /**
   * Connections open at the first memory reading: the figure is the growth from there to all of
   * them, divided by the difference, so a server's one-time costs of its first requests (compiled
   * code, a heap grown once) are not spread over the connections.
   */
  first: number;
  /** Connections, spread over the set, that send a second request after the idle period. */
  sample: number;
  /** Idle timeout given to the servers that have one (sockserve, nginx). */
  keepAliveSeconds: number;
  /** Seconds the connections sit idle before each memory reading. */
  settleSeconds: number;
}

export interface WsLoad {
  /** Payload bytes of every message. */
  bytes: number;
  binary: boolean;
  /** Messages in flight per connection: written in one write, then their echoes awaited. */
  depth: number;
  /** Client processes the connections are divided among. */
  processes: number;
}

const HELLO_PEERS: PeerId[] = ["sockserve", "deno", "node"];
const STATIC_PEERS: PeerId[] = ["sockserve-cli", "nginx", "deno-fileserver", "deno-static"];
const WS_PEERS: PeerId[] = ["sockserve-ws", "deno-ws", "bun-ws"];

const TWO_CORES_SHARED = "wrk runs 2 threads, unpinned, on the same 2 cores as the server's 2 " +
  "workers: load and server share the cores, so the figure is what each server gets out of a " +
  "fully loaded machine (the client CPU column shows wrk's share)";

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
    title: "hello world, keep-alive, 100 connections (and the portable path)",
    measures: "per-request cost of the engine with many connections ready at once; the " +
      "SOCKSERVE_PORTABLE=1 row is the same engine without Deno's private APIs, the " +
      "--max-semi-space-size=2 row the same engine with the young generation `deno task serve` " +
      "runs with",
    kind: "hello",
    path: "/",
    connections: 100,
    metric: "rps",
    peers: ["sockserve", "sockserve-portable", "sockserve-semi2", "deno", "node"],
    baseline: "deno",
  },
  {
    id: "hello-1000",
    title: "hello world, keep-alive, 1,000 busy connections",
    measures:
      "the engine with a thousand connections ready at once: accept bursts, per-connection " +
      "state, fairness (wrk's timeouts count as errors)",
    kind: "hello",
    path: "/",
    connections: 1000,
    metric: "rps",
    peers: HELLO_PEERS,
    baseline: "deno",
    timeoutSeconds: 10,
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
    id: "idle-10k",
    title: "10,000 idle keep-alive connections: memory per connection (KiB)",
    measures: "what an idle keep-alive connection costs the server: 10,000 connections get one " +
      "hello-world answer each and sit idle; the figure is the growth of the server's resident " +
      "memory (VmRSS, all its processes) from 1,000 to 10,000 open connections, divided by " +
      "9,000; then 500 of them, spread over the set, send a second request (its p99 latency is " +
      "in the table; unanswered counts every request without its answer). sockserve and nginx " +
      "get a 60 s keep-alive; Deno.serve has no such setting",
    kind: "hello",
    path: "/hello",
    connections: 10_000,
    metric: "idle-kib",
    peers: ["sockserve", "deno", "nginx"],
    baseline: "deno",
    idle: {
      connections: 10_000,
      first: 1_000,
      sample: 500,
      keepAliveSeconds: 60,
      settleSeconds: 1,
    },
    cores:
      "the load tool is a Deno script (bench/idle_client.ts), 128 connections opening at a time",
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
    id: "static-1m-100",
    title: "1 MiB static file, keep-alive, 100 connections",
    measures: "moving file bytes to many sockets at once: the memory each response in flight " +
      "holds, and the work per byte",
    kind: "static",
    path: "/1m.bin",
    connections: 100,
    metric: "rps",
    threads: 2,
    peers: STATIC_PEERS,
    baseline: "nginx",
    timeoutSeconds: 10,
    cores: "wrk runs 2 threads: one thread cannot read 1 MiB responses as fast as nginx sends " +
      "them (it used 100% of a core against nginx's 55% in a test run); the second thread takes " +
      "only the CPU the server leaves",
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
    id: "cores-hello",
    title: "all cores: hello world, 2 workers against `deno serve --parallel`, 100 connections",
    measures: "serveWorkers with 2 workers against Deno's own 2 isolates, and against one worker",
    kind: "hello",
    path: "/",
    connections: 100,
    threads: 2,
    metric: "rps",
    peers: ["sockserve-w2", "deno-parallel", "sockserve"],
    baseline: "deno-parallel",
    requires: "sockserve-w2",
    cores: TWO_CORES_SHARED,
  },
  {
    id: "cores-static",
    title: "all cores: 1 KiB static file, CLI --workers 2 against nginx with 2 workers",
    measures: "the CLI's --workers 2 against nginx's worker_processes 2, and against one worker",
    kind: "static",
    path: "/1k.bin",
    connections: 100,
    threads: 2,
    metric: "rps",
    peers: ["sockserve-cli-w2", "nginx-w2", "sockserve-cli"],
    baseline: "nginx-w2",
    requires: "sockserve-cli-w2",
    cores: TWO_CORES_SHARED,
  },
  {
    id: "ws-small",
    title: "WebSocket echo, 32-byte text messages, 100 connections",
    measures: "messages echoed per second: frame parsing, message events and sends, for many " +
      "clients with small messages (16 in flight per connection)",
    kind: "ws",
    path: "/ws",
    connections: 100,
    metric: "msgs",
    peers: WS_PEERS,
    baseline: "deno-ws",
    ws: { bytes: 32, binary: false, depth: 16, processes: 2 },
    cores: "the load is 2 Deno processes on raw TCP (bench/ws_client.ts) sharing the 2 cores " +
      "with the server; the client CPU column is their total",
  },
  {
    id: "ws-64k",
    title: "WebSocket echo, 64 KiB binary messages, 10 connections",
    measures: "messages echoed per second with large frames: reassembly, copies and writes",
    kind: "ws",
    path: "/ws",
    connections: 10,
    metric: "msgs",
    peers: WS_PEERS,
    baseline: "deno-ws",
    ws: { bytes: 64 * 1024, binary: true, depth: 1, processes: 1 },
    cores: "the load is 1 Deno process on raw TCP (bench/ws_client.ts)",
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
