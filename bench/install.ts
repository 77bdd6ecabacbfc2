/**
 * Finding the external programs the benchmark drives (wrk, nginx, node), installing the Debian
 * package when we may (root with apt-get), and otherwise saying exactly what to run. One helper
 * for all of them so that "missing tool" reads the same everywhere.
 */

// nginx lives in /usr/sbin, which a non-root PATH often lacks.
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** Absolute path of `name` on PATH (or in the sbin directories), or null. */
export function findBinary(name: string): string | null {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return path;
    } catch { /* not here */ }
  }
  return null;
}

function isRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

async function aptGet(args: string[]): Promise<boolean> {
  const out = await new Deno.Command("apt-get", {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output().catch(() => null);
  return out?.success ?? false;
}

/**
 * Resolves to the path of `binary`, installing Debian package `pkg` first when it is missing and
 * we are root. Throws with the install command for a person to run otherwise.
 */
export async function ensureTool(binary: string, pkg: string): Promise<string> {
  const found = findBinary(binary);
  if (found) return found;
  const how = `install it with: sudo apt-get update && sudo apt-get install -y ${pkg}`;
  if (!isRoot() || !findBinary("apt-get")) {
    throw new Error(`${binary} is not installed; ${how}`);
  }
  console.error(`bench: ${binary} is missing, installing the Debian package ${pkg}…`);
  // Install first with the lists we have; update them only when that fails (fresh containers
  // ship without lists).
  if (!(await aptGet(["install", "-y", "--no-install-recommends", pkg]))) {
    await aptGet(["update"]);
    await aptGet(["install", "-y", "--no-install-recommends", pkg]);
  }
  const installed = findBinary(binary);
  if (!installed) throw new Error(`installing ${pkg} did not provide ${binary}; ${how}`);
  return installed;
}

/** The Bun release the WebSocket scenarios compare against (pinned: a peer must not drift). */
export const BUN_VERSION = "1.4.5";

/** Where the Bun binary from npm is kept between runs. */
function bunCache(): { pkg: string; dir: string; bin: string } {
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x64";
  const home = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  const dir = `${home}/sockserve-bench/bun-${BUN_VERSION}-${arch}`;
  return { pkg: `@oven/bun-linux-${arch}@${BUN_VERSION}`, dir, bin: `${dir}/package/bin/bun` };
}

/** The `bun` on PATH, else the one fetched earlier by `ensureBun`, else null. */
export function findBun(): string | null {
  const onPath = findBinary("bun");
  if (onPath) return onPath;
  const { bin } = bunCache();
  try {
    return Deno.statSync(bin).isFile ? bin : null;
  } catch {
    return null;
  }
}

/**
 * Path of a `bun` binary: the one on PATH, else the one unpacked from the npm package
 * `@oven/bun-linux-<arch>` (the binary ships inside the tarball) into a cache directory, fetched
 * with `npm pack` on first use. Throws with the reason when neither works.
 */
export async function ensureBun(): Promise<string> {
  const found = findBun();
  if (found) return found;
  if (Deno.build.os !== "linux") throw new Error("Bun is fetched for Linux only; put bun on PATH");
  const { pkg, dir, bin } = bunCache();
  const npm = findBinary("npm");
  if (!npm) throw new Error(`no bun on PATH and no npm to fetch ${pkg}`);
  console.error(`bench: fetching Bun ${BUN_VERSION} (npm pack ${pkg}, about 50 MB) into ${dir}…`);
  await Deno.mkdir(dir, { recursive: true });
  const run = async (cmd: string, args: string[]) => {
    const out = await new Deno.Command(cmd, {
      args,
      cwd: dir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(300_000),
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
      throw new Error(`${cmd} ${args.join(" ")} failed: ${text}`);
    }
    return new TextDecoder().decode(out.stdout).trim();
  };
  const tarball = (await run(npm, ["pack", "--silent", pkg])).split("\n").at(-1)!;
  await run("tar", ["xzf", tarball]);
  await Deno.remove(`${dir}/${tarball}`).catch(() => {});
  await run(bin, ["--version"]);
  return bin;
}
