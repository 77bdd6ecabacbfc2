/**
 * The engine's repeating timer (src/timer.ts): it ticks until stopped, keeps the process alive
 * like `setInterval`, and on this Deno runs on core's timers rather than the global (Node-layer)
 * `setInterval`. `deno test`'s sanitizer fails a test whose timer was not stopped.
 */
import assert from "node:assert/strict";
import { repeatEvery } from "../src/timer.ts";

Deno.test("repeatEvery: ticks again and again until stopped, without the global setInterval", async () => {
  const global = globalThis as { setInterval: typeof setInterval };
  const setIntervalBefore = global.setInterval;
  global.setInterval = (() => {
    throw new Error("repeatEvery called the global setInterval");
  }) as unknown as typeof setInterval;
  let stop: () => void;
  let ticks = 0;
  const thirdTick = new Promise<void>((resolve) => {
    try {
      stop = repeatEvery(5, () => {
        if (++ticks === 3) resolve();
      });
    } finally {
      global.setInterval = setIntervalBefore;
    }
  });
  await thirdTick;
  stop!();
  assert.equal(ticks, 3);
});

Deno.test("repeatEvery: keeps the process alive while it ticks", async () => {
  // Nothing else is pending in this program: were the timer not counted, it would exit at once.
  const program = `
    import { repeatEvery } from ${JSON.stringify(new URL("../src/timer.ts", import.meta.url).href)};
    let ticks = 0;
    const stop = repeatEvery(5, () => {
      if (++ticks < 3) return;
      stop();
      console.log("ticked", ticks);
    });
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", program],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stderr), "");
  assert.equal(new TextDecoder().decode(out.stdout), "ticked 3\n");
  assert.equal(out.code, 0);
});
