/** examples/ack_server.ts: several clients at once, one task each, one "Received" per message. */
import assert from "node:assert/strict";
import { Example, readBytes, readTextToEnd, runClient, writeAll } from "../examples_helpers.ts";

const SERVER = "example:ack-server";

Deno.test("ack_server acknowledges every message of several concurrent clients", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const names = ["alice", "bob", "carol"];
  const conns = await Promise.all(names.map(() => Deno.connect({ hostname: "127.0.0.1", port })));
  try {
    // Rounds interleave the clients; within a client each message waits for its ack, which
    // keeps "one read = one message" true (see the header comment of ack_server.ts).
    for (let round = 1; round <= 3; round++) {
      for (const [i, conn] of conns.entries()) {
        await writeAll(conn, `${names[i]} says ${round}\n`);
        assert.equal(await readBytes(conn, 9), "Received\n");
      }
    }
    for (const conn of conns) {
      conn.closeWrite();
      assert.equal(await readTextToEnd(conn), "", "the server closes after end of file");
    }
    // Each client's messages are printed under one client id, a different id per client.
    const ids = new Set<string>();
    for (const name of names) {
      const [, id] = await server.waitFor(
        new RegExp(`^\\[client (\\d)\\] received \\d+ bytes: "${name} says 1`),
      );
      ids.add(id);
      for (const round of [2, 3]) {
        await server.waitFor(
          new RegExp(
            `^\\[client ${id}\\] received ${name.length + 8} bytes: "${name} says ${round}\\\\n"$`,
          ),
        );
      }
      await server.waitFor(new RegExp(`^\\[client ${id}\\] closed$`));
    }
    assert.equal(ids.size, 3);
  } finally {
    for (const conn of conns) conn.close();
  }
  const { code, stdout } = await server.stop("SIGTERM");
  assert.equal(code, 0);
  assert.match(stdout, /SIGTERM: closed the listener and 0 connection\(s\), bye/);
});

Deno.test("ack_server keeps serving others while one client stays silent", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await server.waitFor(/^\[client 1\] connected/);
    // A server that handled clients one after another would be stuck reading from client 1.
    const client = await runClient("example:upper-client", ["--port", String(port)], {
      input: "one\ntwo\n",
    });
    assert.equal(client.code, 0, client.stderr);
    assert.equal(client.stdout, "Received\nReceived\n");
  } finally {
    silent.close();
  }
  await server.waitFor(/^\[client 1\] closed$/);
  assert.equal((await server.stop("SIGINT")).code, 0);
});
