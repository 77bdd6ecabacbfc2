/** Bodies the engine sends from their source (body_source.ts): the bytes must be exactly right. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileServer } from "../mod.ts";
import { knownBody, labelBody } from "../src/body_source.ts";
import { startServer } from "./helpers.ts";

/** 700 KiB of a repeating pattern: not a multiple of the reader's 256 KiB chunk. */
function pattern(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
  return bytes;
}

Deno.test("known bodies: a large file, a range of it and a small file arrive byte-exact", async () => {
  const dir = await Deno.makeTempDir();
  const big = pattern(700 * 1024);
  await Deno.writeFile(join(dir, "big.bin"), big);
  await Deno.writeFile(join(dir, "small.bin"), big.subarray(0, 1000));
  await using s = startServer(fileServer(dir));
  try {
    for (let round = 0; round < 2; round++) { // the second time, buffers are reused
      const whole = await fetch(`${s.origin}/big.bin`);
      assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), big);
      const range = await fetch(`${s.origin}/big.bin`, {
        headers: { range: "bytes=300000-599999" },
      });
      assert.equal(range.status, 206);
      assert.deepEqual(new Uint8Array(await range.arrayBuffer()), big.subarray(300000, 600000));
      const small = await fetch(`${s.origin}/small.bin`);
      assert.deepEqual(new Uint8Array(await small.arrayBuffer()), big.subarray(0, 1000));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("known bodies: a file shorter than announced closes the connection", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "short.bin");
  await Deno.writeFile(path, pattern(300 * 1024));
  await using s = startServer(() => {
    const response = new Response("unused", { headers: { "content-length": String(400 * 1024) } });
    return labelBody(response, { kind: "file", path, first: 0, last: 400 * 1024 - 1 });
  });
  try {
    const response = await fetch(`${s.origin}/`);
    await assert.rejects(response.arrayBuffer());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("known bodies: a label no longer counts once the body was read", async () => {
  const bytes = new TextEncoder().encode("body");
  const response = labelBody(new Response(bytes), { kind: "bytes", bytes });
  assert.equal(knownBody(response)?.kind, "bytes");
  await response.text();
  assert.equal(knownBody(response), null);
});
