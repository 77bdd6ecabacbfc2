/**
 * `deno task serve --watch` in Chromium: editing a page reloads it; editing a stylesheet applies
 * the new style without a navigation (a value the page set survives, and no navigation event
 * fires). The server is the real command line in a subprocess.
 */
import assert from "node:assert/strict";
import { launchChromium, needsChromium } from "../chromium_helpers.ts";
import { startCli } from "../cli_helpers.ts";

const PAGE_TIMEOUT_MS = 15_000;

const withChromium = needsChromium();

const page = (text: string) =>
  `<!doctype html><html><head><title>live</title><link rel="stylesheet" href="/style.css"></head>` +
  `<body><p id="text">${text}</p></body></html>`;

Deno.test({
  name: "--watch in Chromium: a page edit reloads it, a stylesheet edit restyles it in place",
  ignore: withChromium.ignore,
  // Playwright keeps the browser's pipes and timers of its own; the test closes the browser.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "sockserve-watch-" });
    await Deno.writeTextFile(`${root}/index.html`, page("first"));
    await Deno.writeTextFile(`${root}/style.css`, "#text { color: rgb(255, 0, 0); }");
    await using cli = await startCli([root, "--port", "0", "--watch", "--log", "off"]);
    const line = await cli.nextLine();
    const url = /^Listening on (http:\/\/\S+)/.exec(line ?? "")?.[1];
    assert.ok(url, `startup line: ${line}`);
    const profile = await Deno.makeTempDir({ prefix: "sockserve_chromium_" });
    const context = await launchChromium(profile);
    try {
      const tab = context.pages()[0] ?? await context.newPage();
      tab.setDefaultTimeout(PAGE_TIMEOUT_MS);
      const errors: string[] = [];
      tab.on("pageerror", (error) => errors.push(String(error)));
      // Page-side code as strings: it runs in the browser, with the DOM's types.
      const COLOR = 'getComputedStyle(document.getElementById("text")).color';
      const color = () => tab.evaluate<string>(COLOR);
      /** Waits until the page's live-reload stream is open (edits before that go unseen). */
      const streamOpen = () =>
        tab.waitForFunction("window.__sockserveLiveReload?.readyState === 1");

      assert.equal((await tab.goto(url))?.status(), 200);
      await streamOpen();
      assert.equal(await color(), "rgb(255, 0, 0)");
      await tab.evaluate("window.marker = 42");
      let navigations = 0;
      tab.on("framenavigated", (frame) => {
        if (frame === tab.mainFrame()) navigations++;
      });

      // A stylesheet edit: the new color applies, the page stays the same document.
      await Deno.writeTextFile(`${root}/style.css`, "#text { color: rgb(0, 0, 255); }");
      await tab.waitForFunction(`${COLOR} === "rgb(0, 0, 255)"`);
      assert.equal(await tab.evaluate("window.marker"), 42);
      assert.equal(navigations, 0);
      assert.equal(await tab.locator('link[rel="stylesheet"]').count(), 1, "the old link is gone");

      // A page edit: the page reloads (the marker is gone) and shows the new text.
      await Deno.writeTextFile(`${root}/index.html`, page("second"));
      await tab.locator("#text", { hasText: "second" }).waitFor();
      assert.equal(await tab.evaluate("window.marker"), undefined);
      assert.ok(navigations >= 1);
      assert.equal(await color(), "rgb(0, 0, 255)", "the reloaded page has the new stylesheet");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await Deno.remove(profile, { recursive: true });
      await Deno.remove(root, { recursive: true });
    }
  },
});
