/**
 * The fence around Deno's internals (src/deno/gate.ts): SOCKSERVE_PORTABLE=1 turns them all off,
 * and is read only where env access to it is granted, so that reading it never prompts or fails.
 */
import assert from "node:assert/strict";

const GATE = new URL("../../src/deno/gate.ts", import.meta.url).href;
const CORE = new URL("../../src/deno/core.ts", import.meta.url).href;
const SLOTS = new URL("../../src/deno/response_slots.ts", import.meta.url).href;

/**
 * What a fresh process sees of the fence, run with read permission, `flags` and
 * SOCKSERVE_PORTABLE=`value`. `--no-prompt`: a read without permission would throw, not ask.
 */
async function fenceIn(flags: string[], value: string) {
  const program = `
    import { INTERNALS_ALLOWED, PORTABLE, VERIFIED_VERSION } from ${JSON.stringify(GATE)};
    import { denoCore } from ${JSON.stringify(CORE)};
    import { takeStaticBody } from ${JSON.stringify(SLOTS)};
    console.log(JSON.stringify({
      PORTABLE, VERIFIED_VERSION, INTERNALS_ALLOWED,
      core: denoCore !== undefined,
      takes: takeStaticBody(new Response("x")) !== null,
    }));
  `;
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, program);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", ...flags, file],
    env: { SOCKSERVE_PORTABLE: value },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(file));
  assert.equal(new TextDecoder().decode(out.stderr), "");
  assert.equal(out.code, 0);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("SOCKSERVE_PORTABLE=1 turns off every internal", async () => {
  const fence = await fenceIn(["--allow-env=SOCKSERVE_PORTABLE"], "1");
  assert.equal(fence.PORTABLE, true);
  assert.equal(fence.INTERNALS_ALLOWED, false);
  assert.equal(fence.core, false, "Deno's core is not even looked up");
  assert.equal(fence.takes, false, "a Response's body is not taken from its slots");
});

Deno.test("without SOCKSERVE_PORTABLE=1 the internals are used on a verified Deno", async () => {
  const fence = await fenceIn(["--allow-env=SOCKSERVE_PORTABLE"], "0");
  assert.equal(fence.PORTABLE, false);
  assert.equal(fence.INTERNALS_ALLOWED, fence.VERIFIED_VERSION);
  assert.equal(fence.core, fence.VERIFIED_VERSION);
  assert.equal(fence.takes, fence.VERIFIED_VERSION);
});

Deno.test("without env permission the switch is not read: no prompt, no error, counted as unset", async () => {
  const fence = await fenceIn([], "1");
  assert.equal(fence.PORTABLE, false);
});
