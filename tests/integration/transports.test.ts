/** The same handler over Unix sockets, TLS and IPv6, with curl and Deno clients. */
import assert from "node:assert/strict";
import { serve } from "../../mod.ts";
import type { ServeHandler } from "../../mod.ts";
import { listenerUrl, plainAddr } from "../../src/listeners.ts";
import { deferred, parseResponses, readToEnd, run, writeAll } from "../helpers.ts";
import { needs } from "../tools.ts";
import { makeCertificate } from "../tls_helpers.ts";

const withCurl = needs("curl");
/** The TLS tests make their certificates with openssl, and fetch with curl. */
const withCurlAndOpenssl = needs("curl", "openssl");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Answers with what the server saw: transport, URL and the peer's address family. */
const whoami: ServeHandler = (req, info) =>
  Response.json({ transport: info.transport, url: req.url, peer: info.remoteAddr.transport });

async function tempSocketPath(): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-unix-" });
  return { dir, path: `${dir}/server.sock` };
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

withCurl.test("unix: curl --unix-socket and a Deno client reach the handler; the file goes at shutdown", async () => {
  const { dir, path } = await tempSocketPath();
  const server = serve({ path, onListen() {} }, whoami);
  const out = await run("curl", ["-s", "--unix-socket", path, "http://localhost/x?y=1"]);
  assert.deepEqual(JSON.parse(out.stdout), {
    transport: "unix",
    url: "http://localhost/x?y=1",
    peer: "unix",
  });

  const conn = await Deno.connect({ transport: "unix", path });
  await writeAll(
    conn,
    encoder.encode("GET /raw HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
  );
  const [res] = parseResponses(decoder.decode(await readToEnd(conn)));
  conn.close();
  assert.equal(JSON.parse(res.body).url, "http://h/raw");

  assert.ok(exists(path));
  await server.shutdown();
  assert.ok(!exists(path), "the socket file is removed on shutdown");
  await Deno.remove(dir, { recursive: true });
});

withCurl.test("unix: a stale socket file from a killed server is replaced", async () => {
  const { dir, path } = await tempSocketPath();
  // A server that dies without cleaning up: SIGKILL leaves its socket file behind.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const l = Deno.listen({ transport: "unix", path: ${JSON.stringify(path)} });
       console.log("ready");
       await l.accept();`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  assert.equal(decoder.decode((await reader.read()).value).trim(), "ready");
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  assert.ok(exists(path), "the killed server left its socket file");

  // The old file must be probed before binding, so the server binds a moment later.
  const bound = deferred();
  const server = serve({ path, onListen: () => bound.resolve() }, whoami);
  assert.deepEqual(server.addr, { transport: "unix", path });
  await bound.promise;
  const out = await run("curl", ["-s", "--unix-socket", path, "http://localhost/"]);
  assert.equal(JSON.parse(out.stdout).transport, "unix");
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
});

withCurl.test("unix: a live server's socket is never stolen", async () => {
  const { dir, path } = await tempSocketPath();
  const first = serve({ path, onListen() {} }, () => new Response("first"));
  const second = serve({ path, onListen() {} }, () => new Response("second"));
  await assert.rejects(second.finished, /another server is listening on/);
  const out = await run("curl", ["-s", "--unix-socket", path, "http://localhost/"]);
  assert.equal(out.stdout, "first");
  await first.shutdown();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("unix: a path that is not a socket is left alone", async () => {
  const { dir, path } = await tempSocketPath();
  await Deno.writeTextFile(path, "precious");
  const server = serve({ path, onListen() {} }, () => new Response("never"));
  await assert.rejects(server.finished, /exists and is not a socket/);
  assert.equal(await Deno.readTextFile(path), "precious");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("unix: mode sets the socket file's permissions", async () => {
  const { dir, path } = await tempSocketPath();
  for (const mode of [0o600, 0o660]) {
    const server = serve({ path, mode, onListen() {} }, () => new Response("ok"));
    assert.equal(Deno.statSync(path).mode! & 0o777, mode);
    await server.shutdown();
  }
  await Deno.remove(dir, { recursive: true });
});

withCurlAndOpenssl.test("tls: curl --cacert and fetch with a custom CA get https URLs over TLS", async () => {
  const { dir, ca, cert, key } = await makeCertificate();
  await using server = serve({ hostname: "127.0.0.1", port: 0, cert, key, onListen() {} }, whoami);
  const port = (server.addr as Deno.NetAddr).port;

  const out = await run("curl", [
    "-s",
    "--cacert",
    `${dir}/ca.pem`,
    `https://localhost:${port}/c`,
  ]);
  assert.deepEqual(JSON.parse(out.stdout), {
    transport: "tls",
    url: `https://localhost:${port}/c`,
    peer: "tcp",
  });

  const client = Deno.createHttpClient({ caCerts: [ca], http2: false });
  const res = await fetch(`https://127.0.0.1:${port}/f`, { client });
  assert.equal((await res.json()).url, `https://127.0.0.1:${port}/f`);
  client.close();
  await Deno.remove(dir, { recursive: true });
});

withCurlAndOpenssl.test("tls: plain HTTP and a garbage handshake cost one connection, never the server", async () => {
  const { dir, cert, key } = await makeCertificate();
  await using server = serve({ hostname: "127.0.0.1", port: 0, cert, key, onListen() {} }, whoami);
  const port = (server.addr as Deno.NetAddr).port;
  for (const bytes of ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\x00\x05garbage"]) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, encoder.encode(bytes));
    const reply = decoder.decode(await readToEnd(conn));
    assert.ok(!reply.includes("HTTP/1.1 200"), "no HTTP answer on a failed handshake");
    conn.close();
  }
  const out = await run("curl", [
    "-s",
    "--cacert",
    `${dir}/ca.pem`,
    `https://localhost:${port}/`,
  ]);
  assert.equal(JSON.parse(out.stdout).transport, "tls");
  await Deno.remove(dir, { recursive: true });
});

withCurl.test("ipv6: [::1] works, and URLs put the address in brackets", async () => {
  await using server = serve({ hostname: "::1", port: 0, onListen() {} }, whoami);
  const port = (server.addr as Deno.NetAddr).port;
  assert.equal(listenerUrl(server.addr, "http"), `http://[::1]:${port}/`);
  const out = await run("curl", ["-s", "-g", `http://[::1]:${port}/six`]);
  assert.equal(JSON.parse(out.stdout).url, `http://[::1]:${port}/six`);
  // An HTTP/1.0 request without Host gets the listener's address, bracketed.
  const conn = await Deno.connect({ hostname: "::1", port });
  await writeAll(conn, encoder.encode("GET /old HTTP/1.0\r\n\r\n"));
  const [res] = parseResponses(decoder.decode(await readToEnd(conn)));
  conn.close();
  assert.equal(JSON.parse(res.body).url, `http://[::1]:${port}/old`);
});

Deno.test("plainAddr: a plain copy of each kind of address, with the same fields", () => {
  const tcp: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 4321 };
  const udp: Deno.NetAddr = { transport: "udp", hostname: "::1", port: 53 };
  const unix: Deno.UnixAddr = { transport: "unix", path: "/tmp/s.sock" };
  for (const addr of [tcp, udp, unix]) {
    const copy = plainAddr(addr);
    assert.notEqual(copy, addr);
    assert.deepEqual(copy, addr);
  }
});

Deno.test("tcp: the handler's remoteAddr is the client's own address and port", async () => {
  const seen = deferred<Deno.NetAddr>();
  const server = serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (_req, info) => {
    seen.resolve(info.remoteAddr as Deno.NetAddr);
    return new Response("ok");
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await writeAll(conn, encoder.encode("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
    await readToEnd(conn);
    conn.close();
    assert.deepEqual(await seen.promise, { ...conn.localAddr });
  } finally {
    await server.shutdown();
  }
});
