/** The file server's cache of resolutions and small files: a changed file is served changed at once. */
import assert from "node:assert/strict";
import { site } from "./static_fixture.ts";

const OLD = new Date("2024-03-10T12:00:00Z");
const LATER = new Date("2024-03-10T13:00:00Z");

Deno.test("cache: an edited file is served with its new bytes and ETag", async () => {
  await using s = await site({ files: { "a.txt": "first version" } });
  await Deno.utime(`${s.root}/a.txt`, OLD, OLD); // settled: its bytes may be kept
  const first = await s.request("/a.txt");
  assert.equal((await s.request("/a.txt")).body, "first version"); // served from the cache
  await Deno.writeTextFile(`${s.root}/a.txt`, "second, longer version");
  await Deno.utime(`${s.root}/a.txt`, LATER, LATER);
  const second = await s.request("/a.txt");
  assert.equal(second.body, "second, longer version");
  assert.notEqual(second.headers.get("etag"), first.headers.get("etag"));
});

Deno.test("cache: a file replaced by another of the same size and time is seen (new inode)", async () => {
  await using s = await site({ files: { "a.txt": "AAAA", "b.txt": "BBBB" } });
  for (const name of ["a.txt", "b.txt"]) await Deno.utime(`${s.root}/${name}`, OLD, OLD);
  assert.equal((await s.request("/a.txt")).body, "AAAA");
  await Deno.rename(`${s.root}/b.txt`, `${s.root}/a.txt`);
  assert.equal((await s.request("/a.txt")).body, "BBBB");
});

Deno.test("cache: a removed file is 404, a symlink moved to another file follows it", async () => {
  await using s = await site({
    files: { "one.txt": "one", "two.txt": "two!", "gone.txt": "bye" },
    links: { "link.txt": "one.txt" },
  });
  for (const name of ["one.txt", "two.txt", "gone.txt"]) {
    await Deno.utime(`${s.root}/${name}`, OLD, OLD);
  }
  assert.equal((await s.request("/gone.txt")).body, "bye");
  await Deno.remove(`${s.root}/gone.txt`);
  assert.equal((await s.request("/gone.txt")).status, 404);
  assert.equal((await s.request("/link.txt")).body, "one");
  await Deno.remove(`${s.root}/link.txt`);
  await Deno.symlink("two.txt", `${s.root}/link.txt`);
  assert.equal((await s.request("/link.txt")).body, "two!");
});

Deno.test("cache: a symlink moved out of the root is refused at once", async () => {
  await using s = await site({
    files: { "in.txt": "inside", "../secret.txt": "secret" },
    links: { "link.txt": "in.txt" },
  });
  await Deno.utime(`${s.root}/in.txt`, OLD, OLD);
  assert.equal((await s.request("/link.txt")).body, "inside");
  await Deno.remove(`${s.root}/link.txt`);
  await Deno.symlink(`${s.dir}/secret.txt`, `${s.root}/link.txt`);
  assert.equal((await s.request("/link.txt")).status, 404);
});
