/**
 * The peer servers: how each is started, with which handler and flags. Launching, memory and CPU
 * readings and stopping are in bench/launch.ts.
 *
 * Every server runs as its own process (never inside the benchmark's isolate) so that its memory
 * can be read from /proc and so that a crash or a leak in one cannot colour another's figures.
 * A fresh process is started for each measured run: VmHWM is a high-water mark, so a server kept
 * across rounds would report the worst round every time.
 */

import { ensureBun, findBinary } from "./install.ts";
import {
  freePort,
  launch,
  type LaunchOptions,
  type RunningServer,
  START_TIMEOUT_MS,
} from "./launch.ts";
import { nginxCommand } from "./nginx.ts";

export { type RunningServer, StartError } from "./launch.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BENCH = `${REPO}/bench`;

export type PeerId =
  | "sockserve"
  | "sockserve-portable"
  | "sockserve-semi2"
  | "sockserve-w2"
  | "deno"
  | "deno-parallel"
  | "node"
  | "sockserve-cli"
  | "sockserve-cli-w2"
  | "deno-fileserver"
  | "deno-static"
  | "nginx"
  | "nginx-w2"
  | "sockserve-ws"
  | "deno-ws"
  | "bun-ws";

export interface Peer {
  id: PeerId;
  /** Name in the results table. */
  label: string;
  /** Why this peer cannot run on this checkout (a missing feature), or null when it can. */
  unavailable(): Promise<string | null>;
  start(ctx: StartContext): Promise<RunningServer>;
}

export interface StartContext {
  /** Directory of files the static peers serve. */
  staticRoot: string;
  /** Scratch directory for this start (nginx's config and logs); removed by the caller. */
  scratch: string;
  /**
   * Set by the scenarios that hold connections idle: seconds an idle keep-alive connection is
   * kept (where the server has the setting), and how many connections it must accept.
   */
  idle?: { keepAliveSeconds: number; connections: number };
}

// ---------------------------------------------------------------- the peers

/** Embedded servers (bench/embedded_server.ts, bench/node_hello.mjs) print "READY <port>". */
const readyLine = (line: string): number | null => {
  const m = line.match(/^READY (\d+)$/);
  return m ? Number(m[1]) : null;
};

/** The sockserve CLI's startup line: `Listening on http://127.0.0.1:PORT/ (root: …)`. */
export const listeningLine = (line: string): number | null => {
  const m = line.match(/Listening on https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)\//);
  return m ? Number(m[1]) : null;
};

// The same flags for both engines, so that a permission or an unstable flag is never the
// difference between two rows.
const DENO_RUN = ["run", "--allow-net", "--allow-read", "--allow-env", "--unstable-net"];
/**
 * The V8 flag `deno task serve` runs with (deno.json): semi-spaces of 2 MiB instead of up to 16.
 * Every connection waiting for its next request holds an operation's promise, so each scavenge
 * finds data surviving in proportion to the connections, and V8 grows the young generation with
 * what survived; the sockserve-semi2 row shows what the cap does to speed and peak memory.
 */
const SMALL_YOUNG_GENERATION = "--v8-flags=--max-semi-space-size=2";

type Engine = "sockserve" | "sockserve-w2" | "deno";
type App = "hello" | "files" | "static";

/** bench/embedded_server.ts with `engine` and `app`; `idle` raises the keep-alive limits. */
function embedded(engine: Engine, app: App, ctx?: StartContext): LaunchOptions {
  const args = [...DENO_RUN, `${BENCH}/embedded_server.ts`, engine, app];
  if (app !== "hello" && ctx) args.push(ctx.staticRoot);
  if (ctx?.idle) {
    args.push("--keep-alive", String(ctx.idle.keepAliveSeconds));
    args.push("--max-connections", String(ctx.idle.connections + 1000));
  }
  return { cmd: Deno.execPath(), args, portFromLine: readyLine };
}

/** bench/ws_echo_server.ts: a WebSocket echo on `engine`. */
function wsEcho(engine: "sockserve" | "deno"): LaunchOptions {
  return {
    cmd: Deno.execPath(),
    args: [...DENO_RUN, `${BENCH}/ws_echo_server.ts`, engine],
    portFromLine: readyLine,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function cliHelp(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "serve", "--help"],
    cwd: REPO,
    signal: AbortSignal.timeout(START_TIMEOUT_MS),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

let helpText: Promise<string> | undefined;

async function cliUnavailable(flag?: string): Promise<string | null> {
  if (!(await exists(`${REPO}/src/cli/main.ts`))) {
    return "not available: src/cli/main.ts does not exist yet";
  }
  if (!flag) return null;
  helpText ??= cliHelp();
  return (await helpText).includes(flag)
    ? null
    : `not available: \`deno task serve --help\` lists no ${flag}`;
}

function cli(root: string, extra: string[]): LaunchOptions {
  return {
    cmd: Deno.execPath(),
    args: ["task", "serve", root, "--port", "0", "--log", "off", ...extra],
    portFromLine: listeningLine,
    launcherOnly: true,
  };
}

async function nginx(ctx: StartContext, workers: number): Promise<RunningServer> {
  const port = freePort();
  // nginx's workers drop root for "nobody", who must be able to reach the files and our dir.
  await Deno.chmod(ctx.scratch, 0o755);
  const { cmd, args } = await nginxCommand({
    dir: ctx.scratch,
    root: ctx.staticRoot,
    port,
    workers,
    keepAliveSeconds: ctx.idle?.keepAliveSeconds,
    workerConnections: ctx.idle ? ctx.idle.connections + 1000 : undefined,
  });
  return launch({ cmd, args, port });
}

const always = () => Promise.resolve(null);

/** Whether mod.ts exports `name` (read as text: importing it would load the engine here). */
async function modExports(name: string): Promise<string | null> {
  const text = await Deno.readTextFile(`${REPO}/mod.ts`).catch(() => "");
  return new RegExp(`\\b${name}\\b`).test(text)
    ? null
    : `not available: mod.ts does not export ${name} yet`;
}

/** The module bench/ws_echo_server.ts imports sockserve's upgradeWebSocket from. */
export const SOCKSERVE_UPGRADE_MODULE = `${REPO}/src/ws/upgrade_websocket.ts`;

async function sockserveWsUnavailable(): Promise<string | null> {
  const text = await Deno.readTextFile(SOCKSERVE_UPGRADE_MODULE).catch(() => null);
  if (text === null) return "not available: src/ws/upgrade_websocket.ts does not exist yet";
  const declared = /export\s+(async\s+)?(function|const)\s+upgradeWebSocket\b/;
  const listed = /export\s*\{[^}]*\bupgradeWebSocket\b/;
  return declared.test(text) || listed.test(text)
    ? null
    : "not available: src/ws/upgrade_websocket.ts does not export upgradeWebSocket yet";
}

let bun: Promise<string> | undefined;

export const PEERS: Record<PeerId, Peer> = {
  "sockserve": {
    id: "sockserve",
    label: "sockserve `serve`",
    unavailable: () => modExports("serve"),
    start: (ctx) => launch(embedded("sockserve", "hello", ctx)),
  },
  "sockserve-portable": {
    id: "sockserve-portable",
    label: "sockserve `serve`, SOCKSERVE_PORTABLE=1",
    unavailable: () => modExports("serve"),
    start: (ctx) =>
      launch({ ...embedded("sockserve", "hello", ctx), env: { SOCKSERVE_PORTABLE: "1" } }),
  },
  "sockserve-semi2": {
    id: "sockserve-semi2",
    label: "sockserve `serve`, --v8-flags=--max-semi-space-size=2",
    unavailable: () => modExports("serve"),
    start: (ctx) => {
      const options = embedded("sockserve", "hello", ctx);
      return launch({
        ...options,
        args: ["run", SMALL_YOUNG_GENERATION, ...options.args.slice(1)],
      });
    },
  },
  "sockserve-w2": {
    id: "sockserve-w2",
    label: "sockserve serveWorkers (2 workers)",
    unavailable: () => modExports("serveWorkers"),
    start: () => launch(embedded("sockserve-w2", "hello")),
  },
  "deno": {
    id: "deno",
    label: "Deno.serve",
    unavailable: always,
    start: (ctx) => launch(embedded("deno", "hello", ctx)),
  },
  "deno-parallel": {
    id: "deno-parallel",
    label: "deno serve --parallel (2 isolates)",
    unavailable: always,
    start: () =>
      launch({
        cmd: Deno.execPath(),
        args: [
          "serve",
          ...DENO_RUN.slice(1),
          "--parallel",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          `${BENCH}/handlers/hello_module.ts`,
        ],
        // `deno serve --parallel` takes its isolate count from DENO_JOBS (default: every CPU).
        env: { DENO_JOBS: "2" },
        portFromLine: listeningLine,
      }),
  },
  "node": {
    id: "node",
    label: "node:http",
    unavailable: () =>
      Promise.resolve(findBinary("node") ? null : "not available: no `node` on PATH"),
    start: () =>
      launch({
        cmd: findBinary("node")!,
        args: [`${BENCH}/node_hello.mjs`],
        portFromLine: readyLine,
      }),
  },
  "sockserve-cli": {
    id: "sockserve-cli",
    label: "sockserve CLI",
    unavailable: () => cliUnavailable(),
    start: (ctx) => launch(cli(ctx.staticRoot, [])),
  },
  "sockserve-cli-w2": {
    id: "sockserve-cli-w2",
    label: "sockserve CLI --workers 2",
    unavailable: () => cliUnavailable("--workers"),
    start: (ctx) => launch(cli(ctx.staticRoot, ["--workers", "2"])),
  },
  "deno-fileserver": {
    id: "deno-fileserver",
    label: "sockserve fileServer on Deno.serve",
    unavailable: () => modExports("fileServer"),
    start: (ctx) => launch(embedded("deno", "files", ctx)),
  },
  "deno-static": {
    id: "deno-static",
    label: "Deno.serve file server",
    unavailable: always,
    start: (ctx) => launch(embedded("deno", "static", ctx)),
  },
  "nginx": {
    id: "nginx",
    label: "nginx (1 worker)",
    unavailable: always,
    start: (ctx) => nginx(ctx, 1),
  },
  "nginx-w2": {
    id: "nginx-w2",
    label: "nginx (2 workers)",
    unavailable: always,
    start: (ctx) => nginx(ctx, 2),
  },
  "sockserve-ws": {
    id: "sockserve-ws",
    label: "sockserve `serve` + upgradeWebSocket",
    unavailable: sockserveWsUnavailable,
    start: () => launch(wsEcho("sockserve")),
  },
  "deno-ws": {
    id: "deno-ws",
    label: "Deno.serve + Deno.upgradeWebSocket",
    unavailable: always,
    start: () => launch(wsEcho("deno")),
  },
  "bun-ws": {
    id: "bun-ws",
    label: "Bun.serve (websocket)",
    unavailable: async () => {
      bun ??= ensureBun();
      return await bun.then(() => null, (e) => `not available: ${(e as Error).message}`);
    },
    start: async () =>
      launch({ cmd: await bun!, args: [`${BENCH}/ws_echo_bun.mjs`], portFromLine: readyLine }),
  },
};
