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
