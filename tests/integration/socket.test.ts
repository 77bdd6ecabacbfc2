/**
 * The engine's sockets (src/deno/socket.ts), over real sockets: reads give what `Conn.read` gives
 * and end as it ends, through Deno's read operation where its check passed; and closing a socket
 * settles the read or write in flight at once, on every Deno (2.8.3 leaves them pending itself).
 * (TLS connections are served this way in tests/transports.test.ts.)
 */
import assert from "node:assert/strict";
import { checkSocketRead, CLOSE_SETTLES, lingering, socketOf } from "../../src/deno/socket.ts";
import { INTERNALS_ALLOWED } from "../../src/deno/gate.ts";
import { writeAll } from "../helpers.ts";

interface Pair {
  client: Deno.Conn;
  server: Deno.Conn;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A connected pair over `kind`: what a listener accepts, and the client that connected. */
async function pair(kind: "tcp" | "unix"): Promise<Pair> {
  const dir = kind === "unix" ? await Deno.makeTempDir() : null;
  const listener = kind === "tcp"
    ? Deno.listen({ hostname: "127.0.0.1", port: 0 })
    : Deno.listen({ transport: "unix", path: `${dir}/s.sock` });
  const client = kind === "tcp"
    ? await Deno.connect({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port })
    : await Deno.connect({ transport: "unix", path: `${dir}/s.sock` });
  const server = await listener.accept();
  listener.close();
  return {
    client,
    server,
    async [Symbol.asyncDispose]() {
      for (const conn of [client, server]) {
        try {
          conn.close();
        } catch {
          // closed by the test
        }
      }
      if (dir !== null) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Everything `source` gives until the end, read into a small buffer (several reads). */
async function readAll(source: { read(p: Uint8Array): Promise<number | null> }) {
  const chunks: number[] = [];
  const buf = new Uint8Array(7);
  for (;;) {
    const n = await source.read(buf);
    if (n === null || n === 0) return chunks;
    chunks.push(...buf.subarray(0, n));
  }
}

/** Counts the calls of Deno's `Conn` method `name` on `conn`'s class while `run` runs. */
async function countConnCalls(
  conn: Deno.Conn,
  name: "read" | "write" | "close",
  run: () => Promise<void>,
): Promise<number> {
  let proto = Object.getPrototypeOf(conn);
  while (!Object.hasOwn(proto, name)) proto = Object.getPrototypeOf(proto);
  const original = proto[name];
  let calls = 0;
  proto[name] = function (this: Deno.Conn, ...args: unknown[]) {
    calls++;
    return original.apply(this, args);
  };
  try {
    await run();
  } finally {
    proto[name] = original;
  }
  return calls;
}

Deno.test("checkSocketRead: Deno's read operation passes its loopback check wherever internals are allowed", async () => {
  assert.equal(
    await checkSocketRead(),
    INTERNALS_ALLOWED,
    "core.read failed its check: connections are read through Conn.read (right, but V8 keeps " +
      "more: see src/deno/socket.ts)",
  );
});

for (const kind of ["tcp", "unix"] as const) {
  Deno.test(`socketOf over ${kind}: the bytes sent, in order, then the end, through core.read where checked`, async () => {
    await using conns = await pair(kind);
    const checked = await checkSocketRead();
    const sent = new Uint8Array(5000).map((_, i) => (i * 31) & 0xff);
    let got: number[] = [];
    const connReads = await countConnCalls(conns.server, "read", async () => {
      const writing = (async () => {
        // In pieces, so that reads see partial data as it comes.
        for (let at = 0; at < sent.length; at += 1000) {
          await writeAll(conns.client, sent.subarray(at, at + 1000));
        }
        conns.client.close();
      })();
      got = await readAll(socketOf(conns.server));
      await writing;
    });
    assert.deepEqual(got, [...sent]);
    assert.equal(connReads === 0, checked, `Conn.read was called ${connReads} times`);
  });

  Deno.test(`socketOf over ${kind}: writes and the close reach the peer, through core's operations where checked`, async () => {
    await using conns = await pair(kind);
    const checked = await checkSocketRead();
    const sent = new Uint8Array(70_000).map((_, i) => (i * 7) & 0xff);
    let connCalls = 0;
    const received = readAll(conns.client);
    for (const name of ["write", "close"] as const) {
      connCalls += await countConnCalls(conns.server, name, async () => {
        const socket = socketOf(conns.server);
        if (name === "close") return socket.close();
        for (let at = 0; at < sent.length;) at += await socket.write(sent.subarray(at));
      });
    }
    assert.deepEqual(await received, [...sent]);
    // Where Deno settles what is in flight on close itself, the socket keeps no `Conn` at all.
    const throughCore = checked && CLOSE_SETTLES.reads && CLOSE_SETTLES.writes;
    assert.equal(connCalls === 0, throughCore, `Conn.write/close were called ${connCalls} times`);
  });

  Deno.test(`socketOf over ${kind}: closing with a read in flight rejects it, and the peer sees the end`, async () => {
    await using conns = await pair(kind);
    const socket = socketOf(conns.server);
    const pending = socket.read(new Uint8Array(16));
    socket.close();
    await assert.rejects(pending, Deno.errors.Interrupted);
    assert.equal(await conns.client.read(new Uint8Array(16)), null);
    conns.client.close();
  });

  Deno.test(`socketOf over ${kind}: closing with a write in flight to a peer that does not read rejects it`, async () => {
    await using conns = await pair(kind);
    const socket = socketOf(conns.server);
    const big = new Uint8Array(1 << 20);
    // Until the kernel's buffers are full: a write that takes fewer bytes than offered.
    while (await socket.write(big) === big.length);
    const blocked = socket.write(big);
    socket.close();
    await assert.rejects(blocked, Deno.errors.Interrupted);
    // Where Deno itself cannot cancel it, the write may still send from `big` later.
    assert.equal(lingering(big), !CLOSE_SETTLES.writes);
    conns.client.close();
  });
}

Deno.test("socketOf: a connection with a read of its own is read through it", async () => {
  let reads = 0;
  const fake = {
    read: () => Promise.resolve(++reads === 1 ? 3 : null),
    write: (bytes: Uint8Array) => Promise.resolve(bytes.length),
    close() {},
    unref() {},
  } as unknown as Deno.Conn;
  const socket = socketOf(fake);
  assert.equal(await socket.read(new Uint8Array(8)), 3);
  assert.equal(await socket.read(new Uint8Array(8)), null);
  assert.equal(reads, 2);
});
