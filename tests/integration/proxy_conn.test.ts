/**
 * `serve({ proxyProtocol })` over real sockets: the header's source reaches the handler, the bytes
 * after it are the first request, a peer that must send one and does not is closed and logged,
 * untrusted peers cannot use it, and a listener that does not expect it answers 400.
 */
import assert from "node:assert/strict";
import { serve } from "../../mod.ts";
import type { ServeHandler } from "../../mod.ts";
import { exchange, parseResponses, startServer } from "../helpers.ts";
import { concat, inet, inet6, unix, v1, v2 } from "../proxy_helpers.ts";

const echoPeer: ServeHandler = (_request, info) => Response.json(info.remoteAddr);
const GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
const encoder = new TextEncoder();

/** Captures console.error lines while `body` runs. */
async function capturingErrors(body: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    await body();
  } finally {
    console.error = original;
  }
  return lines;
}

Deno.test("proxyProtocol: v1 and v2 sources become info.remoteAddr; pipelined requests follow", async () => {
  await using s = startServer(echoPeer, { proxyProtocol: true });
  const cases: [Uint8Array, unknown][] = [
    [v1("PROXY TCP4 203.0.113.9 10.0.0.1 51000 80\r\n"), {
      transport: "tcp",
      hostname: "203.0.113.9",
      port: 51000,
    }],
    [v1("PROXY TCP6 2001:db8::7 ::1 4711 80\r\n"), {
      transport: "tcp",
      hostname: "2001:db8::7",
      port: 4711,
    }],
    [v2(1, 0x11, inet([198, 51, 100, 1], [10, 0, 0, 1], 1234, 80)), {
      transport: "tcp",
      hostname: "198.51.100.1",
      port: 1234,
    }],
    [
      v2(
        1,
        0x21,
        inet6([0x20, 1, 0x0d, 0xb8, ...new Array(11).fill(0), 9], new Array(16).fill(0), 5, 6),
      ),
      {
        transport: "tcp",
        hostname: "2001:db8::9",
        port: 5,
      },
    ],
    [v2(1, 0x31, unix("/run/haproxy.sock", "/run/s.sock")), {
      transport: "unix",
      path: "/run/haproxy.sock",
    }],
  ];
  for (const [header, expected] of cases) {
    // Two requests in the same write as the header: both are served, on the same address.
    const text = await exchange(
      s.port,
      concat(
        header,
        encoder.encode(GET + GET.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")),
      ),
    );
    const responses = parseResponses(text);
    assert.equal(responses.length, 2);
    for (const response of responses) {
      assert.equal(response.status, 200);
      assert.deepEqual(JSON.parse(response.body), expected);
    }
  }
});

Deno.test("proxyProtocol: LOCAL and UNKNOWN keep the socket's own peer", async () => {
  await using s = startServer(echoPeer, { proxyProtocol: true });
  for (const header of [v2(0, 0x00, []), v1("PROXY UNKNOWN\r\n")]) {
    const [response] = parseResponses(
      await exchange(s.port, concat(header, encoder.encode("GET / HTTP/1.0\r\n\r\n"))),
    );
    const peer = JSON.parse(response.body);
    assert.equal(peer.hostname, "127.0.0.1");
    assert.notEqual(peer.port, 0);
  }
});

Deno.test("proxyProtocol: no header, a bad one, or a half one: closed without a response, logged", async () => {
  await using s = startServer(echoPeer, { proxyProtocol: true, limits: { headersTimeout: 300 } });
  const inputs: [string | Uint8Array, RegExp][] = [
    [GET, /no PROXY protocol header/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n" + GET, /port/],
    [v2(1, 0x12, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), /datagram/],
    ["PROXY TCP4 1.2.3.4", /connection closed before|not read/],
  ];
  for (const [input, reason] of inputs) {
    const lines = await capturingErrors(async () => {
      assert.equal(await exchange(s.port, input), "", String(input));
    });
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], /^sockserve: closing 127\.0\.0\.1:\d+: /);
    assert.match(lines[0], reason);
  }
});

Deno.test("proxyProtocol { trusted }: other peers are plain HTTP and cannot use it", async () => {
  await using s = startServer(echoPeer, { proxyProtocol: { trusted: ["192.0.2.0/24"] } });
  const [plain] = parseResponses(
    await exchange(s.port, GET.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")),
  );
  assert.equal(JSON.parse(plain.body).hostname, "127.0.0.1");
  const forged = await exchange(s.port, "PROXY TCP4 6.6.6.6 1.1.1.1 1 2\r\n" + GET);
  assert.match(forged, /^HTTP\/1\.1 400 /);
  assert.ok(!forged.includes("6.6.6.6"));
  // The same listener with loopback trusted takes the header.
  await using t = startServer(echoPeer, { proxyProtocol: { trusted: ["127.0.0.0/8"] } });
  const [taken] = parseResponses(
    await exchange(t.port, "PROXY TCP4 6.6.6.6 1.1.1.1 1 2\r\nGET / HTTP/1.0\r\n\r\n"),
  );
  assert.equal(JSON.parse(taken.body).hostname, "6.6.6.6");
});

Deno.test("without proxyProtocol a PROXY header is a bad request line: 400", async () => {
  await using s = startServer(echoPeer);
  for (
    const header of [
      v1("PROXY TCP4 6.6.6.6 1.1.1.1 1 2\r\n"),
      v2(1, 0x11, inet([6, 6, 6, 6], [1, 1, 1, 1], 1, 2)),
    ]
  ) {
    const text = await exchange(s.port, concat(header, encoder.encode(GET)));
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.ok(!text.includes("6.6.6.6"));
  }
});

Deno.test("proxyProtocol on a Unix socket listener; refused with TLS", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-proxy-" });
  const path = `${dir}/s.sock`;
  try {
    const server = serve({ path, proxyProtocol: { trusted: [] }, onListen() {} }, echoPeer);
    await using _ = { [Symbol.asyncDispose]: () => server.shutdown() };
    // A fresh path binds before serve() returns.
    const conn = await Deno.connect({ transport: "unix", path });
    await conn.write(
      concat(
        v1("PROXY TCP4 192.0.2.5 10.0.0.1 999 80\r\n"),
        encoder.encode("GET / HTTP/1.0\r\n\r\n"),
      ),
    );
    const text = await new Response(conn.readable).text();
    assert.deepEqual(JSON.parse(parseResponses(text)[0].body), {
      transport: "tcp",
      hostname: "192.0.2.5",
      port: 999,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(
    () => serve({ port: 0, cert: "x", key: "y", proxyProtocol: true, onListen() {} }, echoPeer),
    /not TLS/,
  );
});
