/**
 * What a test needs from the machine, for `Deno.test({ ignore })`: an external program
 * (`requireTool`) or Deno's internals (`requireInternals`). Where it is missing the test is
 * ignored, and the reason is printed once; under `SOCKSERVE_REQUIRE_TOOLS=1` (which .ci/run sets)
 * a missing program is not a reason: its tests run, and fail.
 */
import { INTERNALS_ALLOWED, PORTABLE } from "../src/deno/gate.ts";

const printed = new Set<string>();

function skip(reason: string): true {
  if (!printed.has(reason)) {
    printed.add(reason);
    console.error(`skipping: ${reason}`);
  }
  return true;
}

const REQUIRE_TOOLS = Deno.env.get("SOCKSERVE_REQUIRE_TOOLS") === "1";

/** Where the executable `name` is on the PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && (info.mode === null || (info.mode & 0o111) !== 0)) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * `ignore` for a test that runs `name` (installed by the apt package `aptPackage`): true, with the
 * reason printed, when it is not on the PATH; false when it is, or when SOCKSERVE_REQUIRE_TOOLS=1.
 */
export function requireTool(name: string, aptPackage: string = name): boolean {
  if (which(name) !== null) return false;
  const reason = `${name} not installed: apt-get install ${aptPackage}`;
  if (REQUIRE_TOOLS) {
    if (!printed.has(reason)) {
      printed.add(reason);
      console.error(`${reason} (SOCKSERVE_REQUIRE_TOOLS=1: the tests that need it fail)`);
    }
    return false;
  }
  return skip(reason);
}

/** `ignore` for tests that need each of several programs (name, or [name, aptPackage]). */
export function requireTools(...tools: (string | [string, string])[]): boolean {
  return tools.map((tool) => typeof tool === "string" ? requireTool(tool) : requireTool(...tool))
    .some((ignored) => ignored);
}

/**
 * `ignore` for a test of a fast path on Deno's internals: true, with the reason printed, where
 * they are off (SOCKSERVE_PORTABLE=1, or a Deno version the suite has not verified). On a verified
 * Deno they are on, and a fast path whose startup check fails there fails its tests.
 */
export function requireInternals(): boolean {
  if (INTERNALS_ALLOWED) return false;
  return skip(
    `tests of Deno's internals: off (${
      PORTABLE ? "SOCKSERVE_PORTABLE=1" : `Deno ${Deno.version.deno} is not a verified version`
    }); the public path is what the other tests test`,
  );
}

/**
 * `ignore` for a test that needs Deno `minor` (e.g. "2.9") or later: true, with `why` printed,
 * on an older Deno.
 */
export function requireDeno(minor: string, why: string): boolean {
  const [major, least] = minor.split(".").map(Number);
  const [runningMajor, runningMinor] = Deno.version.deno.split(".").map(Number);
  if (runningMajor > major || runningMajor === major && runningMinor >= least) return false;
  return skip(`${why}: needs Deno ${minor}, this is ${Deno.version.deno}`);
}

/** What a group of tests needs: `ignore` for `Deno.test`, or `test` to declare one with it. */
export interface Needs {
  ignore: boolean;
  /** `Deno.test(name, fn)`, ignored where what is needed is missing. */
  test(name: string, fn: () => void | Promise<void>): void;
}

/** What tests that run the programs `tools` (name, or [name, aptPackage]) need. */
export function needs(...tools: (string | [string, string])[]): Needs {
  const ignore = requireTools(...tools);
  return { ignore, test: (name, fn) => Deno.test({ name, ignore, fn }) };
}
