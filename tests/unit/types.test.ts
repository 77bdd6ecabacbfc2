/**
 * Switching from Deno.serve is one import, for the type checker too: code written against Deno's
 * types — a handler typed `Deno.ServeHandler`, options typed as Deno's serve options, the server
 * kept as a `Deno.HttpServer` — passes `deno check` with `serve` from mod.ts (this file fails to
 * type-check otherwise, and `deno test` checks it first). The servers also run, so each shape is
 * proven to work, not only to compile.
 */
import assert from "node:assert/strict";
import { serve } from "../../mod.ts";

const handler: Deno.ServeHandler = (request, info) => {
  const completed: Promise<void> = info.completed;
  completed.catch(() => {});
  return new Response(`${request.method} from ${info.remoteAddr.transport}`);
};

const netHandler: Deno.ServeHandler<Deno.NetAddr> = (_request, info) =>
  new Response(info.remoteAddr.hostname);

async function get(port: number): Promise<string> {
  return await (await fetch(`http://127.0.0.1:${port}/`)).text();
}

Deno.test("types: a Deno.ServeHandler with Deno.ServeTcpOptions, kept as a Deno.HttpServer<Deno.NetAddr>", async () => {
  const options: Deno.ServeTcpOptions = { hostname: "127.0.0.1", port: 0, onListen() {} };
  const server: Deno.HttpServer<Deno.NetAddr> = serve(options, handler);
  try {
    assert.equal(await get(server.addr.port), "GET from tcp");
  } finally {
    await server.shutdown();
  }
});

Deno.test("types: Deno's options with the handler in them, kept as a Deno.HttpServer", async () => {
  const init: Deno.ServeTcpOptions & Deno.ServeInit<Deno.NetAddr> = {
    hostname: "127.0.0.1",
    port: 0,
    onListen(addr: Deno.NetAddr) {
      assert.equal(addr.transport, "tcp");
    },
    handler: netHandler,
  };
  const server: Deno.HttpServer = serve(init);
  await using _disposed = server;
  server.unref();
  server.ref();
  assert.equal(await get((server.addr as Deno.NetAddr).port), "127.0.0.1");
});

Deno.test("types: Deno.ServeUnixOptions give a server whose addr is a Deno.UnixAddr", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sock" });
  await Deno.remove(path);
  const options: Deno.ServeUnixOptions = { path, onListen() {} };
  const server: Deno.HttpServer<Deno.UnixAddr> = serve(options, handler);
  try {
    assert.equal(server.addr.path, path);
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
    try {
      const response = await fetch("http://localhost/", { client });
      assert.equal(await response.text(), "GET from unix");
    } finally {
      client.close();
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("types: a bare Deno.ServeHandler, as Deno.serve(handler) takes it", () => {
  // Not started (it would bind port 8000): the call only has to type-check.
  const start: (handler: Deno.ServeHandler) => Deno.HttpServer<Deno.NetAddr> = serve;
  assert.equal(typeof start, "function");
});
