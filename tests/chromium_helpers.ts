/**
 * Debian's Chromium for the browser tests, driven by playwright-core over the DevTools protocol.
 * Chromium comes from apt (`.ci/run` installs it); where it is not on the PATH the tests are
 * skipped, saying so, unless SOCKSERVE_REQUIRE_TOOLS=1 (tests/tools.ts).
 */
import { type BrowserContext, chromium } from "playwright-core";
import { type Needs, needs, which } from "./tools.ts";

/** Whether the browser tests run here (and `Deno.test` for them). */
export function needsChromium(): Needs {
  return needs("chromium");
}

/** Headless Chromium with a fresh profile in `profile` (a temporary directory). */
export function launchChromium(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: which("chromium")!,
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
