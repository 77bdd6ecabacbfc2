/** serve(): its three overloads, onListen, signal, asyncDispose, and framing of known bodies. */
import assert from "node:assert/strict";
import { serve } from "../../mod.ts";
import { exchange, parseResponses } from "../helpers.ts";

const GET = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

Deno.test("serve({ ...options, handler }) and serve(options, handler) answer alike", async () => {
  const handler = () => new Response("same");
  const bound: Deno.NetAddr[] = [];
  const onListen = (addr: Deno.Addr) => bound.push(addr as Deno.NetAddr);
  await using a = serve({ hostname: "127.0.0.1", port: 0, onListen, handler });
  await using b = serve({ hostname: "127.0.0.1", port: 0, onListen }, handler);
  assert.deepEqual(bound, [a.addr, b.addr], "onListen gets each bound address");
  for (const server of [a, b]) {
    const [res] = parseResponses(await exchange((server.addr as Deno.NetAddr).port, GET));
    assert.equal(res.body, "same");
  }
});

Deno.test("serve(handler) listens on Deno.serve's default, 0.0.0.0:8000", async (t) => {
  let server;
  try {
    server = serve(() => new Response("default"));
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    // Port 8000 is someone else's on this machine: the default cannot be checked here.
    t.step({ name: "port 8000 is in use", ignore: true, fn() {} });
    return;
  }
  await using _ = server;
  assert.deepEqual({ ...server.addr }, { transport: "tcp", hostname: "0.0.0.0", port: 8000 });
  const [res] = parseResponses(await exchange(8000, GET));
  assert.equal(res.body, "default");
});

Deno.test("aborting the signal shuts the server down and resolves finished", async () => {
  const controller = new AbortController();
  const server = serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, signal: controller.signal },
    () => new Response("ok"),
  );
  const port = (server.addr as Deno.NetAddr).port;
  assert.equal(parseResponses(await exchange(port, GET))[0].body, "ok");
  controller.abort();
  await server.finished;
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
});

Deno.test("bodies of known size get Content-Length: string, bytes, Blob, JSON, and a large string", async () => {
  const bodies: [string, () => Response][] = [
    ["/string", () => new Response("héllo")],
    ["/bytes", () => new Response(new Uint8Array(1000))],
    ["/blob", () => new Response(new Blob(["abc", "def"]))],
    ["/json", () => Response.json({ a: [1, 2] })],
    ["/empty", () => new Response(null)],
    ["/large-string", () => new Response("x".repeat(200_000))],
  ];
  await using server = serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => bodies.find(([path]) => new URL(req.url).pathname === path)![1](),
  );
  const port = (server.addr as Deno.NetAddr).port;
  for (const [path, make] of bodies) {
    const length = (await make().arrayBuffer()).byteLength;
    const [res] = parseResponses(
      await exchange(port, `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`),
    );
    assert.equal(res.headers.get("content-length"), String(length), path);
    assert.equal(res.headers.get("transfer-encoding"), undefined, path);
  }
});
