/**
 * What the numbers were measured on: ratios travel between machines better than absolute
 * figures, but neither means much without the core count, the CPU and the versions.
 */

import { findBinary, findBun } from "./install.ts";
import { wrkVersion } from "./wrk.ts";

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  kernel: string;
}

export interface Versions {
  deno: string;
  v8: string;
  node: string;
  nginx: string;
  bun: string;
  wrk: string;
  sockserve: string;
}

function readOr(path: string, fallback = ""): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

export function machine(): Machine {
  const cpuinfo = readOr("/proc/cpuinfo");
  const memKiB = Number(readOr("/proc/meminfo").match(/^MemTotal:\s+(\d+)/m)?.[1] ?? NaN);
  return {
    cpu: cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1].trim() ?? "unknown",
    // nproc honours the CPU affinity the benchmark actually runs under; /proc/cpuinfo does not.
    cores: navigator.hardwareConcurrency,
    memory: Number.isFinite(memKiB) ? `${(memKiB / 1024 ** 2).toFixed(1)} GiB` : "unknown",
    kernel: Deno.osRelease(),
  };
}

async function firstLine(cmd: string | null, args: string[], cwd?: string): Promise<string> {
  if (!cmd) return "not installed";
  try {
    const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.trim().split("\n")[0] ?? "";
  } catch {
    return "not installed";
  }
}

export async function versions(repo: string): Promise<Versions> {
  const commit = await firstLine(findBinary("git"), ["rev-parse", "--short", "HEAD"], repo);
  const dirty = await firstLine(
    findBinary("git"),
    ["status", "--porcelain", "--", "src", "mod.ts"],
    repo,
  );
  return {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    node: await firstLine(findBinary("node"), ["--version"]),
    // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
    nginx: (await firstLine(findBinary("nginx"), ["-v"])).replace(/^nginx version:\s*/, ""),
    bun: await firstLine(findBun(), ["--version"]),
    wrk: findBinary("wrk") ? await wrkVersion() : "not installed",
    sockserve: commit + (dirty ? " (with uncommitted changes in src/)" : ""),
  };
}
