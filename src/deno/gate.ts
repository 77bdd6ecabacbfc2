/**
 * The fence around Deno's private internals: whether this process may use them at all.
 *
 * Every fast path in src/deno/ asks `INTERNALS_ALLOWED` first, then runs its own behavioural check;
 * where either says no, the engine uses public APIs only. Internals are allowed when
 *
 * - the environment variable `SOCKSERVE_PORTABLE` is not `1` (read once, here, and only when env
 *   access to it is granted already: asking would prompt, and a server without that permission
 *   runs as if it were unset), and
 * - this Deno's minor version is one the test suite ran on with the fast paths (`VERIFIED_MINORS`;
 *   `.ci/run` runs the suite on one release of each).
 */

/** The Deno minor versions whose internals the suite verified (README.md in this folder). */
export const VERIFIED_MINORS: readonly string[] = ["2.9", "2.8"];

/** Whether `SOCKSERVE_PORTABLE=1` is set and readable without a prompt. */
export const PORTABLE: boolean = readPortable();

/** Whether this Deno is of a minor version the suite verified. */
export const VERIFIED_VERSION: boolean = VERIFIED_MINORS.includes(minorOf(Deno.version.deno));

/** Whether the fast paths may look at Deno's internals at all (each still checks its own). */
export const INTERNALS_ALLOWED: boolean = !PORTABLE && VERIFIED_VERSION;

/** "2.9" of "2.9.6" (or of "2.9.6-rc.1"). */
export function minorOf(version: string): string {
  return version.split(".").slice(0, 2).join(".");
}

function readPortable(): boolean {
  // Without the permission, reading would prompt (or, with --no-prompt, throw): not asked at all.
  const descriptor = { name: "env", variable: "SOCKSERVE_PORTABLE" } as const;
  if (Deno.permissions.querySync(descriptor).state !== "granted") return false;
  return Deno.env.get("SOCKSERVE_PORTABLE") === "1";
}
