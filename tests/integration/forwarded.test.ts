/**
 * Trusted forwarding headers (src/forwarded.ts): parsing `Forwarded` (RFC 7239) and
 * `X-Forwarded-*`, the right-most-untrusted walk, spoofing attempts, and `serve({ trustProxy })`
 * over real sockets (the peer is 127.0.0.1, trusted or not).
 */
import assert from "node:assert/strict";
import type { ServeHandler } from "../../mod.ts";
import {
  type Hop,
  parseForwarded,
  parseNode,
  resolveClient,
  xForwardedHops,
} from "../../src/balancer/forwarded.ts";
import { CidrList } from "../../src/balancer/ip.ts";
import { Client, startServer } from "../helpers.ts";

Deno.test("parseForwarded: RFC 7239 §4 elements, quoted strings, malformed headers", () => {
  assert.deepEqual(
    parseForwarded(
      'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711";host="a.example"',
    ),
    [
      { for: "192.0.2.60", proto: "http", host: undefined },
      { for: "[2001:db8:cafe::17]:4711", proto: undefined, host: "a.example" },
    ],
  );
  assert.deepEqual(parseForwarded("for=unknown , for=_hidden"), [
    { for: "unknown", proto: undefined, host: undefined },
    { for: "_hidden", proto: undefined, host: undefined },
  ]);
  assert.deepEqual(parseForwarded("proto=https"), [{
    for: "unknown",
    proto: "https",
    host: undefined,
  }]);
  assert.deepEqual(parseForwarded(null), []);
  for (
    const bad of [
      "for",
      "for=",
      "for=[::1]",
      'for="1.2.3.4',
      "for=1.2.3.4;for=5.6.7.8",
      "for=1.2.3.4 x",
      "=1.2.3.4",
      "for=1.2.3.4,,",
    ]
  ) {
    assert.deepEqual(parseForwarded(bad), [], bad);
  }
});

Deno.test("parseNode: addresses with and without ports; anything else is no address", () => {
  assert.deepEqual(parseNode("192.0.2.43"), { transport: "tcp", hostname: "192.0.2.43", port: 0 });
  assert.deepEqual(parseNode("192.0.2.43:47011")?.port, 47011);
  assert.deepEqual(parseNode("[2001:db8::1]:4711"), {
    transport: "tcp",
    hostname: "2001:db8::1",
    port: 4711,
  });
  assert.equal(parseNode("2001:db8::1")?.hostname, "2001:db8::1");
  assert.equal(parseNode("[::1]:_obf")?.port, 0);
  for (const bad of ["unknown", "_hidden", "1.2.3.4:x", "[::1", "[::1]x", "1.2.3", "a.example"]) {
    assert.equal(parseNode(bad), null, bad);
  }
});

Deno.test("resolveClient: the right-most untrusted hop; unknown stops the walk", () => {
  const trusted = new CidrList(["10.0.0.0/8"]);
  const hops = (...fors: string[]): Hop[] => fors.map((f) => ({ for: f, proto: "https" }));
  const client = (list: Hop[]) => resolveClient(list, trusted).addr?.hostname ?? null;
  assert.equal(client(hops("198.51.100.1")), "198.51.100.1");
  // The client forges an entry on the left: it is skipped, its real address is taken.
  assert.equal(client(hops("1.1.1.1", "198.51.100.1", "10.0.0.2")), "198.51.100.1");
  // The client forges a trusted-looking entry: the walk stops at the first untrusted one.
  assert.equal(client(hops("10.9.9.9", "198.51.100.1")), "198.51.100.1");
  // Every hop is one of ours: the left-most is the client.
  assert.equal(client(hops("10.0.0.7", "10.0.0.2")), "10.0.0.7");
  // A hop with no address: the client is not known; the last trusted proxy stands.
  assert.equal(client(hops("198.51.100.1", "unknown", "10.0.0.2")), "10.0.0.2");
  assert.equal(client(hops("unknown")), null);
  assert.equal(client([]), null);
  // Scheme and host go with the chosen hop, and only when they are sane.
  const chosen = resolveClient([
    { for: "1.1.1.1", proto: "http", host: "evil.example" },
    { for: "198.51.100.1", proto: "HTTPS", host: "shop.example:8443" },
    { for: "10.0.0.2", proto: "http", host: "inner" },
  ], trusted);
  assert.deepEqual([chosen.proto, chosen.host], ["https", "shop.example:8443"]);
  const insane = resolveClient([{ for: "1.1.1.1", proto: "ftp", host: "a/b@c" }], trusted);
  assert.deepEqual([insane.proto, insane.host], [null, null]);
});

Deno.test("xForwardedHops: proto and host line up with For, else the last value", () => {
  const headers = new Headers([
    ["x-forwarded-for", "1.1.1.1, 2.2.2.2"],
    ["x-forwarded-for", "3.3.3.3"],
    ["x-forwarded-proto", "http,https, http"],
    ["x-forwarded-host", "a.example, b.example"],
  ]);
  assert.deepEqual(xForwardedHops(headers), [
    { for: "1.1.1.1", proto: "http", host: "b.example" },
    { for: "2.2.2.2", proto: "https", host: "b.example" },
    { for: "3.3.3.3", proto: "http", host: "b.example" },
  ]);
  assert.deepEqual(xForwardedHops(new Headers()), []);
});

/** The handler sees: the client address, the URL's scheme and host. */
const seen: ServeHandler = (request, info) =>
  Response.json({ addr: info.remoteAddr, url: request.url });

async function ask(port: number, headers: Record<string, string>) {
  const client = await Client.connect(port);
  try {
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    await client.send(`GET /p?q=1 HTTP/1.1\r\nHost: origin.test\r\n${lines}\r\n`);
    const response = await client.response();
    assert.equal(response.status, 200);
    return JSON.parse(response.body) as { addr: Deno.NetAddr; url: string };
  } finally {
    client.close();
  }
}

Deno.test("serve({ trustProxy }): X-Forwarded-* from a trusted peer set address, scheme, host", async () => {
  await using s = startServer(seen, { trustProxy: ["127.0.0.1"] });
  const got = await ask(s.port, {
    "X-Forwarded-For": "6.6.6.6, 198.51.100.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "www.example",
  });
  assert.deepEqual(got.addr, { transport: "tcp", hostname: "198.51.100.7", port: 0 });
  assert.equal(got.url, "https://www.example/p?q=1");
  // No forwarding headers: the socket's peer and the Host header, as without trustProxy.
  const plain = await ask(s.port, {});
  assert.equal(plain.addr.hostname, "127.0.0.1");
  assert.notEqual(plain.addr.port, 0);
  assert.equal(plain.url, "http://origin.test/p?q=1");
  // `Forwarded` means nothing to a server told the proxies write X-Forwarded-*.
  const other = await ask(s.port, { Forwarded: "for=6.6.6.6;proto=https" });
  assert.equal(other.addr.hostname, "127.0.0.1");
  assert.equal(other.url, "http://origin.test/p?q=1");
});

Deno.test("serve({ trustProxy }): an untrusted peer's forwarding headers are ignored", async () => {
  for (const trustProxy of [undefined, ["10.0.0.0/8"]]) {
    await using s = startServer(seen, trustProxy ? { trustProxy } : {});
    const got = await ask(s.port, {
      "X-Forwarded-For": "6.6.6.6",
      "X-Forwarded-Proto": "https",
      "X-Forwarded-Host": "evil.example",
      Forwarded: "for=6.6.6.6",
    });
    assert.equal(got.addr.hostname, "127.0.0.1");
    assert.equal(got.url, "http://origin.test/p?q=1");
  }
});

Deno.test("serve({ trustProxy: { headers: 'forwarded' } }): RFC 7239 chains; bodies pass", async () => {
  const handler: ServeHandler = async (request, info) =>
    Response.json({ addr: info.remoteAddr, url: request.url, body: await request.text() });
  await using s = startServer(handler, {
    trustProxy: { trusted: ["127.0.0.0/8", "10.0.0.0/8"], headers: "forwarded" },
  });
  const got = await ask(s.port, {
    Forwarded: 'for=6.6.6.6;host=evil.example, for="[2001:db8::5]:4711";proto=https;host=a.test',
    "forwarded": "for=10.1.1.1",
    "X-Forwarded-For": "7.7.7.7",
  });
  assert.deepEqual(got.addr, { transport: "tcp", hostname: "2001:db8::5", port: 4711 });
  assert.equal(got.url, "https://a.test/p?q=1");
  const client = await Client.connect(s.port);
  try {
    await client.send(
      "POST /u HTTP/1.1\r\nHost: h\r\nForwarded: for=192.0.2.1;proto=https\r\n" +
        "Content-Length: 5\r\n\r\nhello",
    );
    const body = JSON.parse((await client.response()).body);
    assert.deepEqual([body.addr.hostname, body.url, body.body], [
      "192.0.2.1",
      "https://h/u",
      "hello",
    ]);
  } finally {
    client.close();
  }
});
