/**
 * Debian's Chromium for the browser tests, driven by playwright-core over the DevTools protocol.
 * Chromium comes from apt (`.ci/run` installs it). When /usr/bin/chromium is missing,
 * `ensureChromium` tries `apt-get install chromium` itself and says why it is unavailable only if
 * that fails; the tests are then skipped, saying why.
 */
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Installs chromium with apt when it is missing; returns why it is unavailable, or null. */
export async function ensureChromium(): Promise<string | null> {
  if (exists(CHROMIUM)) return null;
  const run = async (args: string[]) => {
    try {
      const { code } = await new Deno.Command("apt-get", {
        args,
        env: { DEBIAN_FRONTEND: "noninteractive" },
        stdout: "null",
        stderr: "null",
      }).output();
      return code === 0;
    } catch {
      return false; // no apt-get here at all
    }
  };
  if (await run(["update", "-qq"]) && await run(["install", "-y", "-qq", "chromium"])) {
    if (exists(CHROMIUM)) return null;
  }
  return `${CHROMIUM} is missing and "apt-get install chromium" failed (not root? no network?)`;
}

/** Headless Chromium with a fresh profile in `profile` (a temporary directory). */
export function launchChromium(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1100, height: 900 },
  });
}
