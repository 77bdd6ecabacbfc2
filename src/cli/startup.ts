/**
 * What `deno task serve` does before it serves: find the directory it was started in (relative
 * paths are read from there), pick a port when the default one is taken, and say where the
 * server can be reached from this machine and from others.
 */
import { formatHostPort } from "../listeners.ts";

/** Without `--port`, the first port tried; then the next ones, up to `LAST_FALLBACK_PORT`. */
export const DEFAULT_PORT = 8000;
/** The last port tried when `--port` is not given and the ones before it are taken. */
export const LAST_FALLBACK_PORT = 8010;

/**
 * The directory the command was started in. `deno task` runs a task in the directory of
 * deno.json and passes the caller's directory as INIT_CWD (as npm does); run any other way, it is
 * the current directory. Without the permission to read INIT_CWD, the current directory too.
 */
export function startDirectory(): string {
  let initCwd: string | undefined;
  try {
    initCwd = Deno.env.get("INIT_CWD");
  } catch {
    initCwd = undefined; // no --allow-env=INIT_CWD: the task was not run through deno task
  }
  return initCwd !== undefined && isAbsolute(initCwd) ? initCwd : Deno.cwd();
}

/** `path` read relative to `base` (an absolute directory); an absolute `path` stays as it is. */
export function resolveFrom(base: string, path: string): string {
  if (isAbsolute(path)) return path;
  const separator = Deno.build.os === "windows" ? "\\" : "/";
  const joined = base.endsWith(separator) ? base + path : base + separator + path;
  return normalize(joined, separator);
}

function isAbsolute(path: string): boolean {
  return path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || path.startsWith("\\\\");
}

/** Drops "." segments and resolves ".." lexically (as `path.resolve` does), keeping the root. */
function normalize(path: string, separator: string): string {
  const parts = path.split(/[\\/]/);
  const head = parts.shift()!; // "" for "/x", "C:" for "C:\x"
  const out: string[] = [];
  for (const part of parts) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return head + separator + out.join(separator);
}

/** Whether binding failed because something else has the address (EADDRINUSE). */
export function isAddrInUse(error: unknown): boolean {
  if (error instanceof Deno.errors.AddrInUse) return true;
  // A worker reports its failure as a plain Error carrying the message.
  return /address already in use|os error 98\b|os error 48\b|os error 10048\b/i.test(
    String((error as Error)?.message ?? error),
  );
}

/**
 * Listens with `bind(port)`. With `fallback` (no `--port` given) a taken port moves on to the
 * next one, up to `LAST_FALLBACK_PORT`; `onMove(from, to)` is told which port was taken. Any other
 * failure, or a taken port without `fallback`, is thrown.
 */
export async function bindWithFallback<T>(
  port: number,
  fallback: boolean,
  bind: (port: number) => Promise<T>,
  onMove: (taken: number, next: number) => void,
): Promise<T> {
  for (let candidate = port;; candidate++) {
    try {
      return await bind(candidate);
    } catch (error) {
      if (!fallback || !isAddrInUse(error) || candidate >= LAST_FALLBACK_PORT) throw error;
      onMove(candidate, candidate + 1);
    }
  }
}

/** Whether `hostname` binds every interface ("0.0.0.0", "::"). */
export function isWildcard(hostname: string): boolean {
  return hostname === "0.0.0.0" || hostname === "::" || hostname === "[::]";
}

/**
 * The lines printed after the startup line of a listener bound on every interface: where this
 * machine reaches it (`Local:`) and where others on the network do (`Network:`, one line per
 * address). IPv6 addresses are listed only when `::` was bound; link-local ones never (they need a
 * zone to be usable in a URL).
 */
export function reachableUrls(
  scheme: string,
  hostname: string,
  port: number,
  interfaces: readonly Deno.NetworkInterfaceInfo[],
): string[] {
  const lines = [`  Local:   ${scheme}://localhost:${port}/`];
  const seen = new Set<string>();
  for (const info of interfaces) {
    if (info.family === "IPv6" && hostname === "0.0.0.0") continue;
    if (isLoopback(info.address) || isLinkLocal(info.address) || seen.has(info.address)) continue;
    seen.add(info.address);
    lines.push(`  Network: ${scheme}://${formatHostPort(info.address, port)}/`);
  }
  return lines;
}

/** The machine's interfaces, or none when they cannot be listed (no --allow-sys). */
export function networkInterfaces(): Deno.NetworkInterfaceInfo[] {
  try {
    return Deno.networkInterfaces();
  } catch {
    return [];
  }
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address) || address.startsWith("169.254.");
}
