/**
 * Reading a connection through Deno's read operation (src/socket_source.ts), over real sockets:
 * it must give what `Conn.read` gives, end as it ends, and fail as it fails. (TLS connections are
 * read this way by the server in tests/transports.test.ts.)
 */
import assert from "node:assert/strict";
import { socketSource } from "../../src/socket_source.ts";
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

for (const kind of ["tcp", "unix"] as const) {
  Deno.test(`socketSource over ${kind}: Deno's own connection is read directly`, async () => {
    await using conns = await pair(kind);
    assert.notEqual(
      socketSource(conns.server),
      conns.server,
      "this Deno lacks core.read or the connection's resource id: connections are read through " +
        "Conn.read instead (right, but V8 keeps more: see src/socket_source.ts)",
    );
  });

  Deno.test(`socketSource over ${kind}: the bytes sent, in order, then the end`, async () => {
    await using conns = await pair(kind);
    const sent = new Uint8Array(5000).map((_, i) => (i * 31) & 0xff);
    const writing = (async () => {
      // In pieces, so that reads see partial data as it comes.
      for (let at = 0; at < sent.length; at += 1000) {
        await writeAll(conns.client, sent.subarray(at, at + 1000));
      }
      conns.client.close();
    })();
    const got = await readAll(socketSource(conns.server));
    await writing;
    assert.deepEqual(got, [...sent]);
  });

  Deno.test(`socketSource over ${kind}: a read in flight when the connection closes fails`, async () => {
    await using conns = await pair(kind);
    const pending = socketSource(conns.server).read(new Uint8Array(16));
    conns.server.close();
    await assert.rejects(pending);
  });
}

Deno.test("socketSource: a connection with a read of its own is read through it", () => {
  const fake = { read: () => Promise.resolve(null) } as unknown as Deno.Conn;
  assert.equal(socketSource(fake), fake);
});
