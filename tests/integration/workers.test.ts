/** --workers: several listeners on one port (SO_REUSEPORT), each in its own Deno Worker. */
import assert from "node:assert/strict";
import { serveWorkers } from "../../mod.ts";
import { exchange, parseResponses } from "../helpers.ts";

const HANDLER = new URL("../fixtures/worker_id_handler.ts", import.meta.url);

Deno.test("workers: new connections are answered by more than one worker", async () => {
  await using pool = await serveWorkers({
    workers: 2,
    module: HANDLER,
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  });
  assert.equal(pool.workers, 2);
  const ids = new Set<string>();
  // The kernel picks a listener by a hash of each connection's addresses and ports; 64 new
  // connections all landing on one of two listeners has a probability of 2^-63.
  for (let i = 0; i < 64 && ids.size < 2; i++) {
    const [res] = parseResponses(
      await exchange(pool.addr.port, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
    );
    ids.add(res.body);
  }
  assert.equal(ids.size, 2, "both workers answered");
});

Deno.test("workers: shutdown stops every worker and frees the port", async () => {
  const pool = await serveWorkers({
    workers: 2,
    module: HANDLER,
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
  });
  await pool.shutdown();
  await pool.finished;
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: pool.addr.port }));
});

Deno.test("workers: a module without a handler is a clear error", async () => {
  await assert.rejects(
    serveWorkers({
      workers: 1,
      module: new URL("../helpers.ts", import.meta.url),
      hostname: "127.0.0.1",
      port: 0,
      onListen() {},
    }),
    /must export default \{ fetch/,
  );
});
