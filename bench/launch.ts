/**
 * Running a server process for the benchmark and watching it: its process tree, memory (peak and
 * current resident set) and CPU time from /proc, start-up detection, and a stop that leaves
 * nothing behind. Every process the benchmark starts goes through `withFdLimit`, so that 10,000
 * connections fit whatever soft descriptor limit the benchmark was started with.
 */

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** How long a server may take to say it is listening (a cold `deno task` compiles TypeScript). */
export const START_TIMEOUT_MS = 30_000;
/** How long a server may take to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 3_000;

export interface RunningServer {
  port: number;
  /** Root of the server's process tree. */
  pid: number;
  /** Sum of VmHWM (KiB) over the server's processes, read now (call it before stop()). */
  peakMemoryKiB(): number;
  /** Sum of VmRSS (KiB) over the server's processes, read now. */
  memoryKiB(): number;
  /** CPU seconds (user + system) the server's processes have used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- descriptor limit

/**
 * The soft limit raised to the hard one (or 65535 when the hard one is "unlimited" or refused)
 * before `exec`: Deno cannot call setrlimit, a shell can. The pid stays the same.
 */
const RAISE_FD_LIMIT = 'h=$(ulimit -Hn); [ "$h" = unlimited ] && h=65535; ' +
  'ulimit -Sn "$h" 2>/dev/null || ulimit -Sn 65535 2>/dev/null;';

/** `cmd args…` run under a raised descriptor limit, as the same process. */
export function withFdLimit(cmd: string, args: string[]): { cmd: string; args: string[] } {
  return { cmd: "/bin/sh", args: ["-c", `${RAISE_FD_LIMIT} exec "$@"`, "sh", cmd, ...args] };
}

/**
 * `cmd args…` under a raised descriptor limit, followed by the shell's `times`: the last line of
 * its output is the CPU time its children (the command) used. See `childCpuSeconds`.
 */
export function withFdLimitAndTimes(cmd: string, args: string[]): { cmd: string; args: string[] } {
  return {
    cmd: "/bin/sh",
    args: ["-c", `${RAISE_FD_LIMIT} "$@"; s=$?; times; exit $s`, "sh", cmd, ...args],
  };
}

/**
 * The children's user + system seconds from the output of `times` (POSIX: two lines, the shell's
 * then its children's, each `1m2.5s 0m0.25s`); NaN when absent.
 */
export function childCpuSeconds(output: string): number {
  const lines = [...output.matchAll(/^(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/gm)];
  const last = lines.at(-1);
  if (!last) return NaN;
  return Number(last[1]) * 60 + Number(last[2]) + Number(last[3]) * 60 + Number(last[4]);
}

// ---------------------------------------------------------------- process tree, memory, CPU

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

/** A `/proc/PID/status` field in KiB (0 when the process is gone or is a zombie without one). */
function statusKiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = status.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Peak resident set of one process, KiB. */
export const vmHwmKiB = (pid: number): number => statusKiB(pid, "VmHWM");
/** Resident set of one process now, KiB. */
export const vmRssKiB = (pid: number): number => statusKiB(pid, "VmRSS");

/** Clock ticks per second of /proc/PID/stat's times: USER_HZ, 100 on every Linux port. */
const USER_HZ = 100;

/** User + system CPU seconds of one process (all its threads) so far; 0 when it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // After the ")" that ends the command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / USER_HZ;
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

export function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch { /* already gone */ }
}

// ---------------------------------------------------------------- launching

export interface LaunchOptions {
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
  /** Extra environment variables (the portable-path switch, DENO_JOBS). */
  env?: Record<string, string>;
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

export async function launch(o: LaunchOptions): Promise<RunningServer> {
  const run = withFdLimit(o.cmd, o.args);
  const child = new Deno.Command(run.cmd, {
    args: run.args,
    cwd: REPO,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...o.env },
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

  const measured = () => {
    const tree = processTree(child.pid);
    return o.launcherOnly ? tree.filter((pid) => pid !== child.pid) : tree;
  };
  const sum = (of: (pid: number) => number) => measured().reduce((t, pid) => t + of(pid), 0);
  return {
    port,
    pid: child.pid,
    peakMemoryKiB: () => sum(vmHwmKiB),
    memoryKiB: () => sum(vmRssKiB),
    cpuSeconds: () => sum(cpuSecondsOf),
    stop,
  };
}

/** A free loopback port for servers that cannot be given port 0 and tell us (nginx). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
