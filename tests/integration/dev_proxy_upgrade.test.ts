/**
 * Upgrade pass-through of the dev server's proxy, against the backend process: the 101 comes
 * back claimed (src/conn/upgrade.ts), and the channel the connection loop would hand over is
 * joined to the backend's connection. The channel here is a real TCP connection made by the
 * test, standing in for the one the connection loop gives after writing the 101.
 */
import assert from "node:assert/strict";
import { type ByteChannel, takeUpgrade } from "../../src/conn/upgrade.ts";
import { Proxy } from "../../src/cli/proxy/handler.ts";
import { startBackend } from "../dev_helpers.ts";
import { deadline } from "../examples_helpers.ts";

const info = {
  remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 1 },
  transport: "tcp" as const,
  completed: Promise.resolve(),
};

/** A ByteChannel over `conn`, as the connection loop makes one after a 101. */
function channelOf(conn: Deno.Conn): ByteChannel {
  const buf = new Uint8Array(16 * 1024);
  let closed = false;
  const ended = Promise.withResolvers<void>();
  return {
    async read() {
      const n = await conn.read(buf).catch(() => null);
      return n === null ? null : buf.subarray(0, n);
    },
    async write(bytes) {
      for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
    },
    close() {
      if (closed) return;
      closed = true;
      conn.close();
      ended.resolve();
    },
    closed: ended.promise,
    onShutdown: null,
  };
}

Deno.test("proxy upgrade: the backend's 101 comes back claimed, and the bytes then flow both ways", async () => {
  await using backend = await startBackend();
  const proxy = new Proxy([{ prefix: "/api", target: `http://127.0.0.1:${backend.port}` }]);
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const serverSide = await listener.accept();
  try {
    const response = await proxy.forward(
      new Request("http://site.test/api/upgrade", {
        headers: { upgrade: "shout", connection: "keep-alive, Upgrade", "x-app": "1" },
      }),
      info,
    );
    assert.equal(response.status, 101);
    assert.equal(response.headers.get("upgrade"), "shout");
    assert.equal(response.headers.get("connection"), null, "Connection is the server's to write");
    const claim = takeUpgrade(response);
    assert.ok(claim, "the 101 is claimed");
    const channel = channelOf(serverSide);
    claim(channel);

    const decoder = new TextDecoder();
    let text = "";
    const buf = new Uint8Array(4096);
    const readUntil = async (want: string) => {
      while (!text.includes(want)) {
        const n = await deadline(client.read(buf), `"${want}" through the tunnel; got ${text}`);
        if (n === null) throw new Error(`closed before "${want}": ${text}`);
        text += decoder.decode(buf.subarray(0, n));
      }
    };
    await readUntil("hello\n");
    await readUntil("x-app=1");
    // The backend was asked to upgrade as the client asked the proxy.
    assert.match(text, /upgrade=shout/);
    assert.match(text, /connection=upgrade/);
    assert.match(text, /x-app=1/);
    await client.write(new TextEncoder().encode("ping"));
    await readUntil("PING");
    // The client leaves: the tunnel closes both sides.
    client.close();
    await deadline(channel.closed, "the tunnel closing after the client left");
  } finally {
    try {
      client.close();
    } catch {
      // closed above
    }
    proxy.close();
  }
});

Deno.test("proxy upgrade: Upgrade without Connection: upgrade is not forwarded as an upgrade", async () => {
  await using backend = await startBackend();
  const proxy = new Proxy([{ prefix: "/api", target: `http://127.0.0.1:${backend.port}` }]);
  try {
    // Without Connection: upgrade the Upgrade field is not forwarded, so the backend answers
    // its route's 404: nothing is upgraded that was not asked for properly.
    const response = await proxy.forward(
      new Request("http://site.test/api/upgrade", { headers: { upgrade: "shout" } }),
      info,
    );
    assert.equal(response.status, 404);
    await response.body?.cancel();
  } finally {
    proxy.close();
  }
});
