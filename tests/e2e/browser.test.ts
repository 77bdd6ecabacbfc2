/**
 * The lecture's browser half, end to end: `deno task demo` serves www/, Debian's Chromium
 * (headless, driven by playwright-core over the DevTools protocol) loads the page, presses the
 * button, sends text to be upper-cased, chats between two pages over a WebSocket and watches the
 * live panel draw the event stream. A
 * screenshot is left in test-output/ for a person to look at.
 *
 * Chromium comes from apt (`.ci/run` installs it); where it is not on the PATH the test is skipped,
 * saying so (tests/tools.ts).
 */
import assert from "node:assert/strict";
import { startDemo } from "../demo_helpers.ts";
import { deadline, encode, writeAll } from "../examples_helpers.ts";

import { launchChromium, needsChromium } from "../chromium_helpers.ts";

const OUTPUT = new URL("../../test-output/", import.meta.url);
/** Every wait for the page (text to appear, a number to change) gives up after this. */
const PAGE_TIMEOUT_MS = 15_000;

const withChromium = needsChromium();

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "the home page under deno task demo: button, upper-case box, chat, live panel (Chromium)",
  ignore: withChromium.ignore,
  // Playwright keeps the browser's pipes and timers of its own; the test closes the browser.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using running = await startDemo(["--log", "off"]);
    const { demo, base, udpPort, unixPath } = running;
    const profile = await Deno.makeTempDir({ prefix: "sockserve_chromium_" });
    const context = await launchChromium(profile);
    let unixConn: Deno.Conn | null = null;
    try {
      const page = context.pages()[0] ?? await context.newPage();
      page.setDefaultTimeout(PAGE_TIMEOUT_MS);
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") pageErrors.push(message.text());
      });

      /** Waits for an event newer than the one that showed `before` as the bytes sent. */
      const nextSample = (before: string | null) =>
        page.waitForFunction(
          `document.getElementById("stat-out").getAttribute("title") !== ${JSON.stringify(before)}`,
        );

      const response = await page.goto(`${base}/`);
      assert.equal(response?.status(), 200);
      assert.match(await page.title(), /sockserve/);

      // The button: GET /api/hello, the answer shown under it.
      const hello = page.locator("#hello-output");
      assert.equal((await hello.textContent())?.trim(), "Press the button.");
      await page.click("#hello-button");
      await page.locator("#hello-output", { hasText: "Hello there!" }).waitFor();
      assert.match((await hello.textContent()) ?? "", /^200 OK · \d+ ms\s*Hello there!$/);

      // The text box: POST /api/upper, the text comes back upper-cased.
      await page.fill("#upper-input", "Grüße from Chromium, over a socket");
      await page.click("#upper-form button[type=submit]");
      await page.locator("#upper-output", { hasText: "GRÜSSE FROM CHROMIUM, OVER A SOCKET" })
        .waitFor();

      // The chat: a WebSocket to /api/ws; a second page's message reaches both.
      await page.locator("#chat-status", { hasText: /^Connected$/ }).waitFor();
      const other = await context.newPage();
      other.setDefaultTimeout(PAGE_TIMEOUT_MS);
      await other.goto(`${base}/`);
      await other.locator("#chat-status", { hasText: /^Connected$/ }).waitFor();
      const otherName = (await other.locator("#chat-log li").first().textContent())
        ?.match(/^you are (guest\d+)$/)?.[1];
      assert.ok(otherName, "the server tells each socket its name");
      await other.fill("#chat-input", "hello from the other tab ✓");
      await other.click("#chat-form button[type=submit]");
      const line = `${otherName}: hello from the other tab ✓`;
      await page.locator("#chat-log li", { hasText: line }).waitFor();
      await other.locator("#chat-log li", { hasText: line }).waitFor();
      await other.close();

      // The live panel: the stream opens, then the numbers move.
      await page.locator("#live-status", { hasText: /^Live$/ }).waitFor();
      const firstOut = await page.locator("#stat-out").getAttribute("title");
      assert.match(firstOut ?? "", /^[\d,]+ bytes$/);
      // Bytes out grow every second (the stream itself is written), and the chart gets a line.
      await nextSample(firstOut);
      await page.waitForFunction(
        'document.getElementById("chart-line").getAttribute("points").split(" ").length >= 2',
      );
      assert.ok(Number(await page.textContent("#stat-tcp")) >= 1, "the stream's own connection");

      // A Unix-socket client that stays connected shows up under "Unix connections"...
      unixConn = await Deno.connect({ transport: "unix", path: unixPath });
      await writeAll(unixConn, "GET /api/hello HTTP/1.1\r\n"); // half a head: it stays open
      await page.locator("#stat-unix", { hasText: /^1$/ }).waitFor();
      // ...and a UDP peer under "UDP peers": one is counted for a second after its datagram,
      // so send one, wait for the next sample, and look (again, if that sample came too early).
      const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
      try {
        const request = encode("GET /api/hello HTTP/1.1\r\nHost: demo\r\n\r\n");
        const target: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: udpPort };
        for (let attempt = 1;; attempt++) {
          const before = await page.locator("#stat-out").getAttribute("title");
          await udp.send(request, target);
          const [reply] = await deadline(udp.receive(), "a UDP reply from the demo");
          assert.match(new TextDecoder().decode(reply), /^HTTP\/1\.1 200 OK\r\n[^]*Hello there!$/);
          await nextSample(before);
          if (await page.textContent("#stat-udp") === "1") break;
          assert.ok(attempt < 5, "five samples in a row missed the UDP peer");
        }
      } finally {
        udp.close();
      }

      await page.locator("#try").scrollIntoViewIfNeeded();
      await Deno.mkdir(OUTPUT, { recursive: true });
      const screenshot = new URL("browser-demo.png", OUTPUT);
      await page.screenshot({ path: decodeURIComponent(screenshot.pathname), fullPage: true });
      await page.locator("#try").screenshot({
        path: decodeURIComponent(new URL("browser-demo-try.png", OUTPUT).pathname),
      });
      assert.deepEqual(pageErrors, []);

      // Shutdown ends the event stream: the demo exits at once (not after the grace period)
      // and the page says the server ended the stream.
      unixConn.close();
      unixConn = null;
      const { code, stdout } = await demo.stop("SIGTERM");
      assert.equal(code, 0);
      assert.match(stdout, /SIGTERM: ended 1 event stream\(s\), removed .*demo\.sock, bye/);
      await page.locator("#live-status", { hasText: "The server ended the stream" }).waitFor();
      await page.locator("#chat-status", { hasText: "The server went away (1001)" }).waitFor();
      assert.equal(exists(unixPath), false, "the socket file is removed");
    } finally {
      unixConn?.close();
      await context.close();
      await Deno.remove(profile, { recursive: true });
    }
  },
});
