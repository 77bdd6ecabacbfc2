/**
 * Starting and stopping each peer server, and reading its peak memory.
 *
 * Every server runs as its own process (never inside the benchmark's isolate) so that its memory
 * can be read from /proc and so that a crash or a leak in one cannot colour another's figures.
 * A fresh process is started for each measured run: VmHWM is a high-water mark, so a server kept
 * across rounds would report the worst round every time.
 */

import { findBinary } from "./install.ts";
import { nginxCommand } from "./nginx.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BENCH = `${REPO}/bench`;

/** How long a server may take to say it is listening (a cold `deno task` compiles TypeScript). */
const START_TIMEOUT_MS = 30_000;
/** How long a server may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 3_000;

export type PeerId =
  | "sockserve"
  | "deno"
  | "node"
  | "sockserve-cli"
  | "sockserve-cli-w2"
  | "deno-fileserver"
  | "nginx"
  | "nginx-w2";

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
}

export interface RunningServer {
  port: number;
  /** Sum of VmHWM (KiB) over the server's processes, read now (call it before stop()). */
  peakMemoryKiB(): number;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- process tree and memory

/** pid → parent pid for every process now visible in /proc. */
function parentTable(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // The command name (field 2) is in parentheses and may itself contain ") ", so the
      // fields are counted from the last ")": state, then ppid.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parents.set(Number(entry.name), Number(rest[1]));
    } catch { /* exited while we looked */ }
  }
  return parents;
}

/** `root` and all its descendants that are alive now. */
export function processTree(root: number): number[] {
  const parents = parentTable();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  }
  return tree.filter((pid) => pid === root || parents.has(pid));
}

/** VmHWM of one process in KiB (0 when it is gone or is a zombie without one). */
export function vmHwmKiB(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = status.match(/^VmHWM:\s+(\d+)\s+kB/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch { /* already gone */ }
}

// ---------------------------------------------------------------- launching

interface LaunchOptions {
  cmd: string;
  args: string[];
  /**
   * Finds the port in one line of the server's output; null means "not this line". When absent,
   * `port` must be given and readiness is a successful TCP connect.
   */
  portFromLine?: (line: string) => number | null;
  port?: number;
  /**
   * The spawned process only launches the real server (`deno task`): leave it out of the memory
   * figure, which is about the server, not about the launcher.
   */
  launcherOnly?: boolean;
}

/** A server that did not come up: what was run, what went wrong, and what it printed. */
export class StartError extends Error {
  constructor(readonly command: string, readonly why: string, readonly output: string) {
    super(`${command}: ${why}\n${output}`);
  }
  /** One line for the results table: the outcome and the server's own last words. */
  get summary(): string {
    const last = this.output.trim().split("\n").at(-1) ?? "";
    return last ? `${this.why}: ${last}` : this.why;
  }
}

/** Keeps the last lines a server printed, for an error message that shows why it failed. */
class Tail {
  #lines: string[] = [];
  push(line: string) {
    if (line.trim()) this.#lines.push(line);
    if (this.#lines.length > 20) this.#lines.shift();
  }
  toString() {
    return this.#lines.join("\n");
  }
}

async function drainLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  // Reading continues after startup: a server blocked on a full stdout pipe would be measured
  // as slow.
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf("\n")) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    if (pending.length > 64 * 1024) pending = pending.slice(-1024);
  }
  if (pending) onLine(pending);
}

async function canConnect(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

async function launch(o: LaunchOptions): Promise<RunningServer> {
  const child = new Deno.Command(o.cmd, {
    args: o.args,
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const tail = new Tail();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  let port = o.port ?? 0;
  let announced!: (p: number) => void;
  const announcement = new Promise<number>((resolve) => announced = resolve);
  const onLine = (line: string) => {
    tail.push(line);
    const found = o.portFromLine?.(line);
    if (found) announced(found);
  };
  const drained = Promise.all([
    drainLines(child.stdout, onLine),
    drainLines(child.stderr, onLine),
  ]).catch(() => {});

  const stop = async () => {
    // Signal the whole tree: `deno task` and nginx's master have children of their own, and a
    // grandchild left behind would hold the port and the CPU for the next run.
    const tree = processTree(child.pid);
    for (const pid of tree) signal(pid, "SIGTERM");
    const deadline = Date.now() + STOP_GRACE_MS;
    while (Date.now() < deadline && tree.some(alive)) {
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const pid of tree) if (alive(pid)) signal(pid, "SIGKILL");
    await status;
    await drained;
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    if (o.portFromLine) {
      const timeout = new Promise<"timeout">((r) => {
        const t = setTimeout(() => r("timeout"), START_TIMEOUT_MS);
        status.finally(() => clearTimeout(t));
        announcement.finally(() => clearTimeout(t));
      });
      const first = await Promise.race([announcement, status, timeout]);
      if (typeof first !== "number") throw new Error("did not announce its port");
      port = first;
    }
    // Even after the announcement, wait for a connect: nginx never announces, and a server may
    // print before its listener accepts.
    while (!(await canConnect(port))) {
      if (exited || Date.now() > deadline) throw new Error(`is not accepting on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (error) {
    await stop();
    const why = exited ? `exited (${(await status).code})` : (error as Error).message;
    throw new StartError(`${o.cmd} ${o.args.join(" ")}`, why, tail.toString());
  }

  return {
    port,
    peakMemoryKiB() {
      const tree = processTree(child.pid);
      const measured = o.launcherOnly ? tree.filter((pid) => pid !== child.pid) : tree;
      return measured.reduce((sum, pid) => sum + vmHwmKiB(pid), 0);
    },
    stop,
  };
}

/** A free loopback port for servers that cannot be given port 0 and tell us (nginx). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
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

function embedded(engine: "sockserve" | "deno", app: "hello" | "files"): LaunchOptions {
  return {
    cmd: Deno.execPath(),
    args: [...DENO_RUN, `${BENCH}/embedded_server.ts`, engine, app],
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
  });
  return launch({ cmd, args, port });
}

const always = () => Promise.resolve(null);

export const PEERS: Record<PeerId, Peer> = {
  "sockserve": {
    id: "sockserve",
    label: "sockserve `serve`",
    unavailable: async () =>
      (await exists(`${REPO}/src/server.ts`))
        ? null
        : "not available: src/server.ts does not exist yet",
    start: () => launch(embedded("sockserve", "hello")),
  },
  "deno": {
    id: "deno",
    label: "Deno.serve",
    unavailable: always,
    start: () => launch(embedded("deno", "hello")),
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
    unavailable: async () =>
      (await Deno.readTextFile(`${REPO}/mod.ts`)).includes("fileServer")
        ? null
        : "not available: mod.ts does not export fileServer yet",
    start: (ctx) => {
      const o = embedded("deno", "files");
      o.args.push(ctx.staticRoot);
      return launch(o);
    },
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
};
