/**
 * serveDatagram(): HTTP over UDP and Unix datagram sockets, tested over real sockets with Deno
 * datagram clients and with socat. Nothing sleeps: every "no reply" is proven by a reply to a
 * later request from the same socket (datagrams between two loopback sockets are not reordered by
 * the kernel, and the server answers a source's datagrams in the order they arrive).
 */
import assert from "node:assert/strict";
import { serveDatagram } from "../../mod.ts";
import type { DatagramHandler, DatagramServeOptions, DatagramServer } from "../../mod.ts";
import { sourceKey, TokenBuckets } from "../../src/datagram/rate_limit.ts";
import { deadline } from "../examples_helpers.ts";
import { deferred, type ParsedResponse, parseResponses } from "../helpers.ts";
import { needs } from "../tools.ts";

const withSocat = needs("socat");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Reply extends ParsedResponse {
  /** The whole datagram as text. */
  raw: string;
}

/** A datagram socket playing the client: sends requests, reads one reply datagram at a time. */
class DatagramClient implements Disposable {
  readonly socket: Deno.DatagramConn;
  #target: Deno.Addr;

  constructor(target: Deno.Addr, socket: Deno.DatagramConn) {
    this.#target = target;
    this.socket = socket;
  }

  static udp(server: DatagramServer, hostname = "127.0.0.1"): DatagramClient {
    const port = (server.addr as Deno.NetAddr).port;
    return new DatagramClient(
      { transport: "udp", hostname: "127.0.0.1", port },
      Deno.listenDatagram({ transport: "udp", hostname, port: 0 }),
    );
  }

  async send(request: string | Uint8Array): Promise<void> {
    const bytes = typeof request === "string" ? encoder.encode(request) : request;
    assert.equal(await this.socket.send(bytes, this.#target), bytes.length);
  }

  /** The next datagram, which must hold exactly one complete response. */
  async reply(head = false): Promise<Reply> {
    const [data] = await deadline(this.socket.receive(), "a reply datagram");
    const raw = decoder.decode(data);
    const responses = parseResponses(raw, [head]);
    assert.equal(responses.length, 1, `one response per datagram: ${raw}`);
    if (!head && responses[0].headers.has("content-length")) {
      assert.equal(Number(responses[0].headers.get("content-length")), responses[0].body.length);
    }
    return { ...responses[0], raw };
  }

  [Symbol.dispose](): void {
    this.socket.close();
  }
}

/** Starts a quiet UDP server on 127.0.0.1 and a free port. */
function udpServer(
  handler: DatagramHandler,
  options: Partial<Omit<DatagramServeOptions, "transport">> = {},
): DatagramServer {
  return serveDatagram(
    { transport: "udp", hostname: "127.0.0.1", port: 0, onListen() {}, ...options },
    handler,
  );
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: udp.test\r\n${extra}\r\n`;

/** Answers with what it saw, as JSON. */
const echo: DatagramHandler = async (request, info) =>
  Response.json({
    method: request.method,
    url: request.url,
    body: await request.text(),
    man: request.headers.get("man"),
    transport: info.transport,
    remote: info.remoteAddr,
  });

Deno.test("udp: one request datagram gets one response datagram with Content-Length", async () => {
  await using server = udpServer(echo);
  using client = DatagramClient.udp(server);
  await client.send(get("/hello?x=1"));
  const reply = await client.reply();
  assert.match(reply.raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(reply.headers.get("content-type"), "application/json");
  assert.ok(reply.headers.has("date"));
  // No connection, so nothing about one; and never chunked.
  assert.equal(reply.headers.has("connection"), false);
  assert.equal(reply.headers.has("keep-alive"), false);
  assert.equal(reply.headers.has("transfer-encoding"), false);
  const seen = JSON.parse(reply.body);
  assert.equal(seen.method, "GET");
  assert.equal(seen.url, "http://udp.test/hello?x=1");
  assert.equal(seen.transport, "udp");
  const local = client.socket.addr as Deno.NetAddr;
  assert.deepEqual(seen.remote, { transport: "udp", hostname: "127.0.0.1", port: local.port });
  assert.equal(server.stats().requests, 1);
});

Deno.test("udp: an HTTP/1.0 request is answered as HTTP/1.1, still without Connection", async () => {
  await using server = udpServer(() => new Response("hi"));
  using client = DatagramClient.udp(server);
  await client.send("GET / HTTP/1.0\r\n\r\n");
  const reply = await client.reply();
  assert.match(reply.raw, /^HTTP\/1\.1 200 OK\r\n/);
  assert.equal(reply.headers.has("connection"), false);
  assert.equal(reply.headers.get("content-length"), "2");
  assert.equal(reply.body, "hi");
});

Deno.test("udp: SSDP's M-SEARCH * and NOTIFY * parse and reach the handler", async () => {
  await using server = udpServer(echo);
  using client = DatagramClient.udp(server);
  await client.send(
    "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n" +
      'MAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n',
  );
  const search = JSON.parse((await client.reply()).body);
  assert.equal(search.method, "M-SEARCH");
  assert.equal(search.url, "http://239.255.255.250:1900/*");
  assert.equal(search.man, '"ssdp:discover"');
  await client.send(
    "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n" +
      "NTS: ssdp:alive\r\nUSN: uuid:1::upnp:rootdevice\r\n\r\n",
  );
  assert.equal(JSON.parse((await client.reply()).body).method, "NOTIFY");
});

Deno.test("udp: a Content-Length body and a chunked body inside the datagram", async () => {
  await using server = udpServer(echo);
  using client = DatagramClient.udp(server);
  await client.send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  assert.equal(JSON.parse((await client.reply()).body).body, "hello");
  await client.send(
    "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
  );
  assert.equal(JSON.parse((await client.reply()).body).body, "abcde");
});

Deno.test("udp: framing that does not match the datagram is a 400, never a guess", async () => {
  let calls = 0;
  await using server = udpServer(() => {
    calls++;
    return new Response("ok");
  });
  using client = DatagramClient.udp(server);
  const cases: [string, RegExp][] = [
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nshort", /Content-Length is 10/],
    ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nabc", /1 bytes after the end/],
    [get("/") + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", /bytes after the end of the request/],
    [
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
      /chunked body does not end inside the datagram/,
    ],
    ["GET / HTTP/1.1\r\nHost: a\r\n", /no empty line/],
  ];
  for (const [request, message] of cases) {
    await client.send(request);
    const reply = await client.reply();
    assert.equal(reply.status, 400, request);
    assert.match(reply.body, message);
  }
  assert.equal(calls, 0);
});

Deno.test("udp: a malformed datagram gets a 400 and the listener answers the next one", async () => {
  await using server = udpServer(() => new Response("fine"));
  using client = DatagramClient.udp(server);
  for (const junk of ["hello\r\n\r\n", "GET / HTTP/1.1\nHost: a\n\n", "\x00\x01\x02"]) {
    await client.send(junk);
    const reply = await client.reply();
    assert.equal(reply.status, 400, JSON.stringify(junk));
    assert.equal(reply.headers.get("content-type"), "text/plain; charset=utf-8");
    await client.send(get("/"));
    assert.equal((await client.reply()).body, "fine");
  }
});

Deno.test("udp: an empty datagram is ignored (the next request's reply comes first)", async () => {
  await using server = udpServer(() => new Response("after"));
  using client = DatagramClient.udp(server);
  await client.send(new Uint8Array(0));
  await client.send(get("/"));
  assert.equal((await client.reply()).body, "after");
  assert.equal(server.stats().requests, 1);
});

Deno.test("udp: the parser's limits give 414, 431 and 413, as over TCP", async () => {
  await using server = udpServer(() => new Response("ok"), {
    limits: { maxUriBytes: 64, maxHeaderBytes: 128, maxBodyBytes: 16 },
    maxDatagramBytes: 1000,
  });
  using client = DatagramClient.udp(server);
  await client.send(get("/" + "a".repeat(100)));
  assert.equal((await client.reply()).status, 414);
  await client.send(get("/", `X-Big: ${"b".repeat(200)}\r\n`));
  assert.equal((await client.reply()).status, 431);
  await client.send(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n${"c".repeat(17)}`);
  assert.equal((await client.reply()).status, 413);
  // A datagram over maxDatagramBytes: 413 whatever it holds (the kernel would have cut it).
  await client.send(new Uint8Array(1500).fill(0x41));
  const big = await client.reply();
  assert.equal(big.status, 413);
  assert.match(big.body, /request datagram is larger than 1000 bytes/);
  await client.send(get("/"));
  assert.equal((await client.reply()).body, "ok");
});

Deno.test("udp: a response that does not fit in one datagram becomes a 500 that says so", async () => {
  const limit = 1000;
  let size = 0;
  await using server = udpServer((request) => {
    if (request.url.endsWith("/stream")) {
      // Endless: must be cut off once it is known not to fit, not read forever.
      return new Response(
        new ReadableStream({ pull: (c) => c.enqueue(new Uint8Array(100)) }),
      );
    }
    return new Response("x".repeat(size), { headers: { "content-type": "text/plain" } });
  }, { maxDatagramBytes: limit });
  using client = DatagramClient.udp(server);

  // Learn the head's size from a 100-byte body, then ask for a reply of exactly the limit.
  size = 100;
  await client.send(get("/"));
  const headBytes = encoder.encode((await client.reply()).raw).length - 100;
  size = limit - headBytes;
  await client.send(get("/"));
  const exact = await client.reply();
  assert.equal(exact.status, 200);
  assert.equal(encoder.encode(exact.raw).length, limit);

  size = limit - headBytes + 1;
  await client.send(get("/"));
  const over = await client.reply();
  assert.equal(over.status, 500);
  assert.match(
    over.body,
    /the response \(1001 bytes\) does not fit in one datagram of at most 1000/,
  );

  await client.send(get("/stream"));
  const endless = await client.reply();
  assert.equal(endless.status, 500);
  assert.match(endless.body, /over 1000 bytes/);
});

Deno.test("udp: HEAD gets the length without the body; 204 gets neither", async () => {
  await using server = udpServer((request) =>
    request.url.endsWith("/none") ? new Response(null, { status: 204 }) : new Response("12345")
  );
  using client = DatagramClient.udp(server);
  await client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
  const head = await client.reply(true);
  assert.equal(head.headers.get("content-length"), "5");
  assert.match(head.raw, /\r\n\r\n$/);
  await client.send(get("/none"));
  const none = await client.reply();
  assert.equal(none.status, 204);
  assert.equal(none.headers.has("content-length"), false);
  assert.match(none.raw, /\r\n\r\n$/);
});

Deno.test("udp: a handler that throws gives a 500 datagram; onError can answer instead", async () => {
  const errors: unknown[] = [];
  await using server = udpServer((request) => {
    if (request.url.endsWith("/throw")) throw new Error("boom");
    return new Response("alive");
  }, {
    onError(error) {
      errors.push(error);
      return new Response("handled", { status: 503 });
    },
  });
  using client = DatagramClient.udp(server);
  await client.send(get("/throw"));
  const reply = await client.reply();
  assert.equal(reply.status, 503);
  assert.equal(reply.body, "handled");
  assert.equal((errors[0] as Error).message, "boom");
  await client.send(get("/"));
  assert.equal((await client.reply()).body, "alive");

  // The default onError: a 500 (the error is logged, not sent).
  await using plain = udpServer(() => Promise.reject(new Error("secret detail")));
  using other = DatagramClient.udp(plain);
  const originalError = console.error;
  console.error = () => {};
  try {
    await other.send(get("/"));
    const failed = await other.reply();
    assert.equal(failed.status, 500);
    assert.doesNotMatch(failed.body, /secret/);
  } finally {
    console.error = originalError;
  }
});

Deno.test("udp: a handler returning null sends nothing; the next reply is the first to arrive", async () => {
  await using server = udpServer((request) =>
    request.url.endsWith("/quiet") ? null : new Response("spoken")
  );
  using client = DatagramClient.udp(server);
  await client.send(get("/quiet"));
  await client.send(get("/loud"));
  const first = await client.reply();
  assert.equal(first.body, "spoken");
  assert.equal(server.stats().requests, 2, "the silent request did reach the handler");
});

/** Counts handler calls per source host and answers with the request's path. */
function countingHandler(): { handler: DatagramHandler; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const handler: DatagramHandler = (request, info) => {
    const host = (info.remoteAddr as Deno.NetAddr).hostname;
    calls.set(host, (calls.get(host) ?? 0) + 1);
    return new Response(new URL(request.url).pathname);
  };
  return { handler, calls };
}

Deno.test("udp: rate limit: burst N+1 from one source gives N replies, another source is answered", async () => {
  const { handler, calls } = countingHandler();
  // No refill during the test, so the count is exact whatever the machine's speed.
  await using server = udpServer(handler, { rateLimit: { burst: 3, perSecond: 0 } });
  using a = DatagramClient.udp(server, "127.0.0.1");
  using b = DatagramClient.udp(server, "127.0.0.2"); // another source address on loopback
  for (let i = 1; i <= 4; i++) await a.send(get(`/a${i}`));
  // B's request was sent after A's fourth, so once B is answered the server has dealt with
  // (and dropped) A's fourth: the handler never ran for it, so no reply for it can ever come.
  await b.send(get("/marker"));
  assert.equal((await b.reply()).body, "/marker");
  const got = [await a.reply(), await a.reply(), await a.reply()].map((r) => r.body).sort();
  assert.deepEqual(got, ["/a1", "/a2", "/a3"]);
  assert.equal(calls.get("127.0.0.1"), 3);
  assert.equal(calls.get("127.0.0.2"), 1);
  // Malformed datagrams cost a token too: the limited source gets no 400 either.
  await a.send("junk\r\n\r\n");
  await b.send(get("/marker2"));
  assert.equal((await b.reply()).body, "/marker2");
  assert.equal(calls.get("127.0.0.1"), 3);
});

Deno.test("udp: the rate limit is on by default (DEFAULT_RATE_LIMIT) and can be turned off", async () => {
  const { DEFAULT_RATE_LIMIT } = await import("../../mod.ts");
  const burst = DEFAULT_RATE_LIMIT.burst;
  // Tokens refill at perSecond; keep the test's own refill out of the count with a fast burst
  // and a generous bound: at most a few tokens can come back while the burst is sent.
  {
    const { handler, calls } = countingHandler();
    await using server = udpServer(handler);
    using a = DatagramClient.udp(server, "127.0.0.1");
    using b = DatagramClient.udp(server, "127.0.0.2");
    const sent = burst * 3;
    await Promise.all(Array.from({ length: sent }, (_, i) => a.send(get(`/${i}`))));
    await b.send(get("/marker"));
    await b.reply();
    const answered = calls.get("127.0.0.1")!;
    assert.ok(answered >= burst && answered < sent, `${answered} of ${sent} answered`);
    for (let i = 0; i < answered; i++) await a.reply();
  }
  {
    const { handler, calls } = countingHandler();
    await using server = udpServer(handler, { rateLimit: false });
    using a = DatagramClient.udp(server);
    const sent = burst * 3;
    for (let i = 0; i < sent; i++) await a.send(get(`/${i}`));
    for (let i = 0; i < sent; i++) await a.reply();
    assert.equal(calls.get("127.0.0.1"), sent);
  }
});

Deno.test("rate limit buckets: refill over time, bounded map that forgets the coldest", () => {
  let now = 0;
  const buckets = new TokenBuckets({ burst: 2, perSecond: 4, maxSources: 2 }, () => now);
  assert.deepEqual([buckets.take("a"), buckets.take("a"), buckets.take("a")], [true, true, false]);
  now += 250; // one token back at 4 per second
  assert.deepEqual([buckets.take("a"), buckets.take("a")], [true, false]);
  now += 10_000; // never more than the burst
  assert.deepEqual([buckets.take("a"), buckets.take("a"), buckets.take("a")], [true, true, false]);
  buckets.take("b");
  buckets.take("a"); // a is now the most recently seen
  buckets.take("c"); // evicts b, not a
  assert.equal(buckets.size, 2);
  assert.equal(buckets.take("a"), false, "a kept its empty bucket");
});

Deno.test("rate limit key: IPv4 address, IPv6 /64, mapped IPv4 as IPv4, Unix path", () => {
  const udp = (hostname: string): Deno.Addr => ({ transport: "udp", hostname, port: 1 });
  assert.equal(sourceKey(udp("192.0.2.7")), "192.0.2.7");
  assert.equal(sourceKey(udp("::ffff:192.0.2.7")), "192.0.2.7");
  assert.equal(sourceKey(udp("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
  assert.equal(sourceKey(udp("2001:db8:1:2:bbbb:cccc:dddd:eeee")), "2001:db8:1:2::/64");
  assert.equal(sourceKey(udp("2001:db8::1")), "2001:db8:0:0::/64");
  assert.equal(sourceKey(udp("fe80::1%eth0")), "fe80:0:0:0::/64");
  assert.equal(sourceKey(udp("::1")), "0:0:0:0::/64");
  assert.equal(sourceKey({ transport: "unixpacket", path: "/tmp/c.sock" }), "/tmp/c.sock");
});

withSocat.test("udp: socat sends a request from stdin and prints the reply", async () => {
  await using server = udpServer(() => new Response("hello from udp\n"));
  const port = (server.addr as Deno.NetAddr).port;
  // socat keeps waiting for more datagrams after stdin's end (-t), so it is stopped once the
  // whole reply has been printed.
  const child = new Deno.Command("socat", {
    args: ["-t", "10", "-", `UDP:127.0.0.1:${port}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(get("/from-socat")));
    await writer.close();
    let text = "";
    const reader = child.stdout.getReader();
    const complete = () => /\r\n\r\nhello from udp\n$/.test(text);
    await deadline(
      (async () => {
        while (!complete()) {
          const { done, value } = await reader.read();
          if (done) break;
          text += decoder.decode(value, { stream: true });
        }
      })(),
      () => `socat's output: ${JSON.stringify(text)}`,
    );
    reader.releaseLock();
    const [reply] = parseResponses(text);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, "hello from udp\n");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stdout.cancel().catch(() => {});
  }
});

Deno.test("unixpacket: request and reply over a Unix datagram socket; the file goes on shutdown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/server.sock`;
    const server = serveDatagram({ transport: "unixpacket", path, onListen() {} }, echo);
    assert.deepEqual(server.addr, { transport: "unixpacket", path });
    // A Unix datagram client must bind a path of its own, or there is no address to answer.
    const clientPath = `${dir}/client.sock`;
    using client = new DatagramClient(
      server.addr,
      Deno.listenDatagram({ transport: "unixpacket", path: clientPath }),
    );
    // Two at once: Deno cannot send on a Unix datagram socket while a receive is pending, so
    // the server answers them one after the other; both must come back.
    await client.send("POST /u HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc");
    await client.send("GET /second HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const seen = JSON.parse((await client.reply()).body);
    assert.equal(seen.transport, "unixpacket");
    assert.equal(seen.url, "http://localhost/u");
    assert.equal(seen.body, "abc");
    assert.deepEqual(seen.remote, { transport: "unixpacket", path: clientPath });
    assert.equal(JSON.parse((await client.reply()).body).url, "http://localhost/second");

    // A path in use is refused with a message that names it.
    assert.throws(
      () => serveDatagram({ transport: "unixpacket", path, onListen() {} }, echo),
      (error: Error) => error instanceof Deno.errors.AddrInUse && error.message.includes(path),
    );
    await server.shutdown();
    assert.equal(await Deno.lstat(path).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("udp: shutdown lets the reply in flight go out, then closes the socket", async () => {
  const release = deferred();
  const started = deferred();
  const server = udpServer(async () => {
    started.resolve();
    await release.promise;
    return new Response("late but sent");
  });
  const port = (server.addr as Deno.NetAddr).port;
  using client = DatagramClient.udp(server);
  await client.send(get("/"));
  await deadline(started.promise, "the handler to start");
  let finished = false;
  const stopping = server.shutdown().then(() => finished = true);
  await Promise.resolve();
  assert.equal(finished, false, "shutdown waits for the request in flight");
  release.resolve();
  assert.equal((await client.reply()).body, "late but sent");
  await deadline(stopping, "shutdown");
  // The port is free again: the socket really is closed.
  Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
});

Deno.test("udp: aborting the signal shuts the listener down", async () => {
  const controller = new AbortController();
  const server = udpServer(() => new Response("ok"), { signal: controller.signal });
  const port = (server.addr as Deno.NetAddr).port;
  using client = DatagramClient.udp(server);
  await client.send(get("/"));
  assert.equal((await client.reply()).body, "ok");
  controller.abort();
  await deadline(server.finished, "finished after abort");
  Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
});

Deno.test("udp: requestTimeout turns a handler that never answers into a 503", async () => {
  await using server = udpServer(() => new Promise<Response>(() => {}), {
    limits: { requestTimeout: 50 },
  });
  using client = DatagramClient.udp(server);
  await client.send(get("/"));
  const reply = await client.reply();
  assert.equal(reply.status, 503);
  assert.match(reply.body, /no response within 50 ms/);
});

Deno.test("unixpacket: shutdown does not wait past the grace period for a stuck handler", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/stuck.sock`;
    const started = deferred();
    const server = serveDatagram({
      transport: "unixpacket",
      path,
      onListen() {},
      limits: { shutdownGracePeriod: 50 },
    }, () => {
      started.resolve();
      return new Promise<Response>(() => {});
    });
    using client = new DatagramClient(
      server.addr,
      Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/c.sock` }),
    );
    await client.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    await deadline(started.promise, "the handler to start");
    await deadline(server.shutdown(), "shutdown within the grace period");
    assert.equal(await Deno.lstat(path).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveDatagram refuses a maxDatagramBytes no datagram can have", () => {
  for (const maxDatagramBytes of [100, 70_000, 1.5]) {
    assert.throws(() => udpServer(() => null, { maxDatagramBytes }), RangeError);
  }
});

Deno.test("udp: info.completed resolves once the reply was sent, rejects when an error went instead", async () => {
  const outcomes: Promise<string>[] = [];
  const server = udpServer((request, info) => {
    outcomes.push(info.completed.then(() => "resolved", (error) => `rejected: ${error.name}`));
    // /big's body does not fit in a datagram: a 500 goes back instead of the handler's answer.
    const size = new URL(request.url).pathname === "/big" ? 2000 : 2;
    return new Response("x".repeat(size));
  }, { maxDatagramBytes: 1000 });
  try {
    using client = DatagramClient.udp(server);
    await client.send(get("/small"));
    assert.equal((await client.reply()).status, 200);
    await client.send(get("/big"));
    assert.equal((await client.reply()).status, 500);
    assert.deepEqual(await Promise.all(outcomes), ["resolved", "rejected: Interrupted"]);
  } finally {
    await server.shutdown();
  }
});
