/**
 * The engine's timers (src/deno/timer.ts): they fire as `setInterval` and `setTimeout` do, keep the
 * process alive as those do, and, where Deno's internals are used, run on core's timers rather than
 * the global (Node-layer) ones once their startup check passed. `deno test`'s sanitizer fails a
 * test whose timer was not stopped.
 */
import assert from "node:assert/strict";
import { CORE_TIMERS, repeatEvery, runAfter } from "../../src/deno/timer.ts";
import { INTERNALS_ALLOWED } from "../../src/deno/gate.ts";

Deno.test("the core timers pass their startup check wherever Deno's internals are allowed", async () => {
  assert.equal(await CORE_TIMERS, INTERNALS_ALLOWED);
});

/**
 * Runs `start` with the global `setInterval` and `setTimeout` throwing, once the core timers'
 * check is over: where they are used, nothing else may be called. Where they are not, the global
 * ones are, and `start` runs as it is.
 */
async function withoutGlobalTimers<T>(start: () => T): Promise<T> {
  if (!await CORE_TIMERS) return start();
  const global = globalThis as { setInterval: unknown; setTimeout: unknown };
  const before = { setInterval: global.setInterval, setTimeout: global.setTimeout };
  const refuse = (name: string) => () => {
    throw new Error(`the global ${name} was called`);
  };
  global.setInterval = refuse("setInterval");
  global.setTimeout = refuse("setTimeout");
  try {
    return start();
  } finally {
    Object.assign(global, before);
  }
}

Deno.test("repeatEvery: ticks again and again until stopped, without the global setInterval where core's are used", async () => {
  let ticks = 0;
  let thirdTick!: () => void;
  const ticked = new Promise<void>((resolve) => thirdTick = resolve);
  const stop = await withoutGlobalTimers(() =>
    repeatEvery(5, () => {
      if (++ticks === 3) thirdTick();
    })
  );
  await ticked;
  stop();
  assert.equal(ticks, 3);
});

Deno.test("runAfter: fires once, without the global setTimeout where core's are used; cancelling afterwards does nothing", async () => {
  let calls = 0;
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => fire = resolve);
  const cancel = await withoutGlobalTimers(() =>
    runAfter(5, () => {
      calls++;
      fire();
    })
  );
  await fired;
  cancel();
  assert.equal(calls, 1);
});

Deno.test("runAfter: cancelled before its time, it never fires", async () => {
  let cancelledFired = false;
  runAfter(1, () => cancelledFired = true)();
  // Timers fire in order of their time: once a later one fires, the cancelled one's time is past.
  await new Promise<void>((resolve) => runAfter(20, resolve));
  assert.equal(cancelledFired, false);
});

Deno.test("repeatEvery and runAfter: keep the process alive while they are set", async () => {
  // Nothing else is pending in this program: were a timer not counted, it would exit at once.
  // The one-shot timer is cancelled again from its own callback, which must not uncount the next.
  const program = `
    import { repeatEvery, runAfter } from ${
    JSON.stringify(new URL("../../src/deno/timer.ts", import.meta.url).href)
  };
    let ticks = 0;
    const stop = repeatEvery(5, () => {
      if (++ticks < 3) return;
      stop();
      const cancel = runAfter(5, () => {
        cancel();
        runAfter(20, () => console.log("ticked", ticks, "then fired twice"));
      });
    });
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", program],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stderr), "");
  assert.equal(new TextDecoder().decode(out.stdout), "ticked 3 then fired twice\n");
  assert.equal(out.code, 0);
});
