/**
 * Running wrk and reading its report.
 *
 * wrk's human-readable report is parsed rather than asking a Lua `done()` hook for JSON, because
 * two scenarios already need their own Lua scripts and wrk takes only one `-s`; the text report
 * is the same for every scenario. `parseWrk` is pure so tests/bench_wrk.test.ts checks it against
 * real captured reports without generating any load.
 */

import { ensureTool, findBinary } from "./install.ts";
import { childCpuSeconds, processTree, signal, withFdLimitAndTimes } from "./launch.ts";

export interface WrkResult {
  /** Responses per second over the run (wrk counts a pipelined batch as its N responses). */
  requestsPerSec: number;
  /** Responses completed in the run. */
  requests: number;
  /** Wall-clock seconds the run took, as wrk measured it. */
  seconds: number;
  /** Bytes read from the server (heads and bodies). */
  bytesRead: number;
  /** Bytes read per second, as wrk printed it (rounded to its unit). */
  bytesPerSec: number;
  /** 99th percentile latency in milliseconds; NaN when wrk has no figure for it. */
  p99Ms: number;
  /** 50th percentile latency in milliseconds; NaN when wrk has no figure for it. */
  p50Ms: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** Responses whose status was neither 2xx nor 3xx. */
  non2xx: number;
  /** CPU seconds (user + system) wrk itself used; NaN when not measured (parseWrk alone). */
  cpuSeconds: number;
}

/** Socket errors plus responses that were not 2xx/3xx: the "errors" column of the report. */
export function totalErrors(r: WrkResult): number {
  const s = r.socketErrors;
  return s.connect + s.read + s.write + s.timeout + r.non2xx;
}

const TIME_UNITS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
// wrk prints sizes with binary multiples (it divides by 1024) but SI-looking names.
const BYTE_UNITS: Record<string, number> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

function toMs(value: string, unit: string): number {
  const scale = TIME_UNITS[unit];
  if (scale === undefined) throw new Error(`wrk: unknown time unit "${unit}"`);
  return Number(value) * scale;
}

function toBytes(value: string, unit: string): number {
  const scale = BYTE_UNITS[unit];
  if (scale === undefined) throw new Error(`wrk: unknown size unit "${unit}"`);
  return Number(value) * scale;
}

function must(match: RegExpMatchArray | null, what: string, text: string): RegExpMatchArray {
  if (match) return match;
  const first = text.trim().split("\n")[0] ?? "";
  throw new Error(`wrk: no ${what} in its output (first line: ${JSON.stringify(first)})`);
}

/** Parses the report wrk prints (run with `--latency`); throws when it is not a complete report. */
export function parseWrk(text: string): WrkResult {
  const total = must(
    text.match(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read/m),
    "request count",
    text,
  );
  const rps = must(text.match(/^Requests\/sec:\s+([\d.]+)/m), "Requests/sec", text);
  const transfer = must(
    text.match(/^Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB|TB)/m),
    "Transfer/sec",
    text,
  );
  const percentile = (p: number): number => {
    const m = must(
      text.match(new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, "m")),
      `${p}% latency (was wrk run with --latency?)`,
      text,
    );
    // wrk prints 0.00us for a percentile it has no sample for: with pipelining it records one
    // latency per batch but ranks against every response, and the top percentiles come out 0.
    // A real latency is never 0, so this is "not measured", not "infinitely fast".
    const ms = toMs(m[1], m[2]);
    return ms > 0 ? ms : NaN;
  };
  const requests = Number(total[1]);
  // These two lines appear only when their counts are non-zero.
  const sock = text.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  const non2xx = text.match(/Non-2xx or 3xx responses: (\d+)/);
  return {
    requestsPerSec: Number(rps[1]),
    requests,
    seconds: toMs(total[2], total[3]) / 1e3,
    bytesRead: toBytes(total[4], total[5]),
    bytesPerSec: toBytes(transfer[1], transfer[2]),
    p99Ms: percentile(99),
    p50Ms: percentile(50),
    socketErrors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
    cpuSeconds: NaN,
  };
}

export interface WrkOptions {
  url: string;
  connections: number;
  threads: number;
  /** Whole seconds: wrk's duration parser takes s/m/h units only. */
  seconds: number;
  /** Lua script path and the arguments after `--` that its `init(args)` receives. */
  script?: string;
  scriptArgs?: string[];
  headers?: string[];
  /** Seconds before wrk gives up on one request and counts a timeout. */
  timeoutSeconds: number;
}

/** The argument list for one run; separate from running it so it can be printed and tested. */
export function wrkArgs(o: WrkOptions): string[] {
  const args = [
    `-t${Math.min(o.threads, o.connections)}`,
    `-c${o.connections}`,
    `-d${Math.max(1, Math.round(o.seconds))}s`,
    `--timeout`,
    `${o.timeoutSeconds}s`,
    "--latency",
  ];
  for (const h of o.headers ?? []) args.push("-H", h);
  if (o.script) args.push("-s", o.script);
  args.push(o.url);
  if (o.scriptArgs?.length) args.push("--", ...o.scriptArgs);
  return args;
}

/**
 * Runs wrk once and parses its report. wrk runs under a raised descriptor limit (`-c 1000` needs
 * more than the common soft limit of 1024) and under a shell whose `times` reports wrk's CPU
 * time. wrk stops by itself after `seconds`; the kill timer is a backstop so that a wedged run can
 * never hold the benchmark (or the machine) hostage.
 */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const run = withFdLimitAndTimes(findBinary("wrk") ?? "wrk", wrkArgs(o));
  const child = new Deno.Command(run.cmd, {
    args: run.args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const backstop = setTimeout(() => {
    for (const pid of processTree(child.pid)) signal(pid, "SIGKILL");
  }, (o.seconds + o.timeoutSeconds + 15) * 1000);
  try {
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`wrk failed (${out.code}): ${text.trim().slice(0, 300)}`);
    return { ...parseWrk(text), cpuSeconds: childCpuSeconds(text) };
  } finally {
    clearTimeout(backstop);
  }
}

/** wrk's version line, e.g. "wrk debian/4.1.0-3+b2 [epoll]". (`wrk -v` exits 1 by design.) */
export async function wrkVersion(): Promise<string> {
  const out = await new Deno.Command(findBinary("wrk") ?? "wrk", {
    args: ["-v"],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return text.split("\n")[0].replace(/\s*Copyright.*$/, "").trim();
}

export function ensureWrk(): Promise<string> {
  return ensureTool("wrk", "wrk");
}
