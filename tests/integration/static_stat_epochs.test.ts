/**
 * The file server `stat`s a path once for the requests that had arrived before that `stat`
 * (src/io/read_epoch.ts), and again for any request that arrives after it: an edit is still seen
 * by the first request sent after it.
 */
import assert from "node:assert/strict";
import { fileServer } from "../../mod.ts";
import { Client } from "../helpers.ts";
import { site } from "../static_fixture.ts";

const OLD = new Date("2024-03-10T12:00:00Z");
const LATER = new Date("2024-03-10T13:00:00Z");

/** Counts `Deno.statSync` calls on paths ending with `suffix` until disposed. */
function countStats(suffix: string): { readonly count: number } & Disposable {
  const original = Deno.statSync;
  const counter = {
    count: 0,
    [Symbol.dispose]() {
      Deno.statSync = original;
    },
  };
  Deno.statSync = (path: string | URL) => {
    if (String(path).endsWith(suffix)) counter.count++;
    return original(path);
  };
  return counter;
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

Deno.test("stat epochs: pipelined requests read together share one stat of their file", async () => {
  await using s = await site({ files: { "a.txt": "first" } });
  await Deno.utime(`${s.root}/a.txt`, OLD, OLD);
  const client = await Client.connect(s.port);
  try {
    await client.send(get("/a.txt"));
    assert.equal((await client.response()).body, "first"); // the path is known from now on
    using stats = countStats("/a.txt");
    await client.send(get("/a.txt").repeat(3));
    const answers = await client.responses(3);
    assert.deepEqual(answers.map((answer) => answer.body), ["first", "first", "first"]);
    assert.equal(stats.count, 1);
  } finally {
    client.close();
  }
});

Deno.test("stat epochs: a request sent after an edit gets a stat of its own and the new bytes", async () => {
  await using s = await site({ files: { "a.txt": "first" } });
  await Deno.utime(`${s.root}/a.txt`, OLD, OLD);
  const client = await Client.connect(s.port);
  const other = await Client.connect(s.port);
  try {
    await client.send(get("/a.txt").repeat(2));
    assert.deepEqual((await client.responses(2)).map((answer) => answer.body), ["first", "first"]);
    using stats = countStats("/a.txt");
    await Deno.writeTextFile(`${s.root}/a.txt`, "again"); // the same size: times tell them apart
    await Deno.utime(`${s.root}/a.txt`, LATER, LATER);
    await client.send(get("/a.txt"));
    assert.equal((await client.response()).body, "again");
    const afterFirst = stats.count;
    assert.ok(afterFirst >= 1);
    await Deno.writeTextFile(`${s.root}/a.txt`, "third");
    await Deno.utime(`${s.root}/a.txt`, OLD, OLD);
    await other.send(get("/a.txt"));
    assert.equal((await other.response()).body, "third");
    assert.ok(stats.count > afterFirst);
  } finally {
    client.close();
    other.close();
  }
});

Deno.test("stat epochs: a Request, which carries no read epoch, gets a stat each time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-epochs-" });
  try {
    await Deno.writeTextFile(`${dir}/a.txt`, "first");
    const handler = fileServer(dir);
    const request = () => new Request("http://localhost/a.txt");
    assert.equal(await (await handler(request())).text(), "first");
    using stats = countStats("/a.txt");
    const bodies = await Promise.all([1, 2, 3].map(async () => (await handler(request())).text()));
    assert.deepEqual(bodies, ["first", "first", "first"]);
    assert.equal(stats.count, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
