/**
 * `serve({ health, drainDelay })`: the health path answers 200 while serving and 503 from the
 * moment shutdown begins; for the drain delay the server still accepts and serves everything
 * else, then closes as before.
 */
import assert from "node:assert/strict";
import { drainDelay } from "../../src/balancer/health.ts";
import { Client, exchange, parseResponses, startServer } from "../helpers.ts";

const hello = () => new Response("hello");

async function get(port: number, path: string, method = "GET") {
  const [response] = parseResponses(
    await exchange(port, `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    [method === "HEAD"],
  );
  return response;
}

Deno.test("health: 200 while serving; HEAD; other methods 405; other paths reach the handler", async () => {
  await using s = startServer(hello, { health: "/healthz", drainDelay: 0 });
  const ok = await get(s.port, "/healthz");
  assert.deepEqual([ok.status, ok.body, ok.headers.get("cache-control")], [
    200,
    "ok\n",
    "no-store",
  ]);
  assert.equal((await get(s.port, "/healthz", "HEAD")).status, 200);
  const post = await get(s.port, "/healthz", "POST");
  assert.deepEqual([post.status, post.headers.get("allow")], [405, "GET, HEAD"]);
  assert.equal((await get(s.port, "/healthz/x")).body, "hello");
  assert.equal((await get(s.port, "/")).body, "hello");
  assert.throws(() => startServer(hello, { health: "healthz" }), /must start with "\/"/);
});

Deno.test("health: 503 once shutdown begins; the drain delay still serves, then the listener closes", async () => {
  const s = startServer(hello, { health: "/healthz", drainDelay: 1000 });
  // A keep-alive connection opened before shutdown keeps working during the delay.
  const kept = await Client.connect(s.port);
  await kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await kept.response()).status, 200);

  const stopped = s.server.shutdown();
  const draining = await get(s.port, "/healthz");
  assert.deepEqual([draining.status, draining.body], [503, "draining\n"]);
  assert.equal((await get(s.port, "/")).body, "hello", "new connections are still served");
  await kept.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal((await kept.response()).body, "hello");
  // A second shutdown() waits for the same drain instead of cutting it short.
  const again = s.server.shutdown();
  assert.equal((await get(s.port, "/healthz")).status, 503);

  await Promise.all([stopped, again]);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: s.port }));
  assert.equal(await kept.rest(), "", "the idle keep-alive connection was closed");
  kept.close();
});

Deno.test("drainDelay: 5 s by default with a health path, none without", () => {
  assert.equal(drainDelay({ health: "/h" }), 5000);
  assert.equal(drainDelay({ health: "/h", drainDelay: 0 }), 0);
  assert.equal(drainDelay({}), 0);
  assert.equal(drainDelay({ drainDelay: 250 }), 250);
});
