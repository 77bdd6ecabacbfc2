/**
 * `deno task demo` over real sockets: the API on TCP, the Unix socket and UDP; the event stream's
 * wire format and its numbers; the read-only source mounts; shutdown with a stream open.
 */
import assert from "node:assert/strict";
import { startDemo } from "../demo_helpers.ts";
import { exchangeOn } from "../helpers.ts";
import { deadline, encode, Example, readTextToEnd, writeAll } from "../examples_helpers.ts";
import { formatEvent } from "../../demo/events.ts";
import { type Sources, StatsSampler } from "../../demo/stats.ts";
import { RecentPeers } from "../../demo/udp.ts";

/** Reads an event stream from a raw socket, one `data:` payload at a time. */
class EventReader {
  #conn: Deno.Conn;
  #text = "";
  #decoder = new TextDecoder();
  head = "";

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async #until(pattern: RegExp): Promise<RegExpMatchArray> {
    const buf = new Uint8Array(4096);
    for (;;) {
      const match = this.#text.match(pattern);
      if (match) {
        this.#text = this.#text.slice(match.index! + match[0].length);
        return match;
      }
      const n = await deadline(this.#conn.read(buf), "more of the event stream");
      if (n === null) throw new Error(`stream ended; left: ${JSON.stringify(this.#text)}`);
      this.#text += this.#decoder.decode(buf.subarray(0, n), { stream: true });
    }
  }

  async open(): Promise<void> {
    [this.head] = await this.#until(/^[^]*?\r\n\r\n/);
  }

  /** The next event's data (chunk-size lines of the chunked framing are skipped). */
  async next(): Promise<Record<string, unknown>> {
    const [, data] = await this.#until(/data: (.*)\n\n/);
    return JSON.parse(data);
  }

  /** Everything until the server closes. */
  async rest(): Promise<string> {
    return this.#text + await readTextToEnd(this.#conn);
  }
}

Deno.test("demo: the API over TCP, the Unix socket and UDP", async () => {
  await using running = await startDemo(["--log", "off"]);
  const { base, unixPath, udpPort } = running;

  const hello = await fetch(`${base}/api/hello`);
  assert.equal(hello.status, 200);
  assert.equal(hello.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await hello.text(), "Hello there!");
  const upper = await fetch(`${base}/api/upper`, { method: "POST", body: "grüße, sockets!" });
  assert.equal(await upper.text(), "GRÜSSE, SOCKETS!");
  const tooMuch = await fetch(`${base}/api/upper`, { method: "POST", body: "x".repeat(65 * 1024) });
  assert.equal(tooMuch.status, 413);
  await tooMuch.body?.cancel();
  // What the page reads as "no API": unknown /api/ paths and wrong methods.
  const unknown = await fetch(`${base}/api/nope`);
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
  const wrong = await fetch(`${base}/api/upper`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "POST");
  await wrong.body?.cancel();
  // Everything else is www/.
  const page = await fetch(`${base}/`);
  assert.equal(
    await page.text(),
    await Deno.readTextFile(new URL("../../www/index.html", import.meta.url)),
  );

  const unix = await exchangeOn(
    await Deno.connect({ transport: "unix", path: unixPath }),
    "POST /api/upper HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\nover a file",
  );
  assert.match(unix, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nOVER A FILE$/);

  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const target: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: udpPort };
    const ask = async (request: string) => {
      await udp.send(encode(request), target);
      const [reply] = await deadline(udp.receive(), "a UDP reply");
      return new TextDecoder().decode(reply);
    };
    assert.match(
      await ask("POST /api/upper HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\ndatagram"),
      /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nDATAGRAM$/,
    );
    // Over UDP the event stream is one event: one datagram holds one whole response.
    const events = await ask("GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
    assert.match(events, /^HTTP\/1\.1 200 OK\r\n[^]*content-type: text\/event-stream/i);
    const [, data] = events.match(/\r\n\r\ndata: (\{.*\})\n\n$/)!;
    assert.equal(JSON.parse(data).connections.udp, 1, "this peer, heard from just now");
  } finally {
    udp.close();
  }
  const { code } = await running.demo.stop("SIGINT");
  assert.equal(code, 0);
});

Deno.test("demo: /api/events streams live statistics in the page's format", async () => {
  await using running = await startDemo(["--log", "off"]);
  const { tcpPort, unixPath, base } = running;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: tcpPort });
  let unixConn: Deno.Conn | null = null;
  try {
    await writeAll(
      conn,
      "GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
    );
    const events = new EventReader(conn);
    await events.open();
    assert.match(events.head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(events.head, /\r\ncontent-type: text\/event-stream; charset=utf-8\r\n/i);
    assert.match(events.head, /\r\ncache-control: no-store\r\n/i);

    const first = await events.next(); // sent as soon as the stream opens
    assert.deepEqual(Object.keys(first).sort(), [
      "bytesIn",
      "bytesOut",
      "connections",
      "requestsPerSecond",
      "time",
    ]);
    assert.deepEqual(Object.keys(first.connections as object).sort(), ["tcp", "udp", "unix"]);
    assert.equal((first.connections as { tcp: number }).tcp, 1, "this stream's connection");
    assert.ok(Math.abs((first.time as number) - Date.now()) < 5_000);

    // Three requests and an idle Unix connection; a later sample shows them.
    for (let i = 0; i < 3; i++) await (await fetch(`${base}/api/hello`)).text();
    unixConn = await Deno.connect({ transport: "unix", path: unixPath });
    let sample = await events.next();
    for (let i = 0; (sample.connections as { unix: number }).unix !== 1; i++) {
      assert.ok(i < 3, `the Unix connection never showed: ${JSON.stringify(sample)}`);
      sample = await events.next();
    }
    assert.ok((sample.bytesOut as number) > (first.bytesOut as number));
    assert.ok((sample.bytesIn as number) > (first.bytesIn as number));
  } finally {
    unixConn?.close();
    conn.close();
  }
  assert.equal((await running.demo.stop("SIGTERM")).code, 0);
});

Deno.test("demo: requestsPerSecond counts the requests of the last second", async () => {
  await using running = await startDemo(["--log", "off"]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: running.tcpPort });
  try {
    await writeAll(conn, "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
    const events = new EventReader(conn);
    await events.open();
    await events.next(); // the first sample, at once
    await events.next(); // a tick: a one-second window starts here
    for (let i = 0; i < 7; i++) await (await fetch(`${running.base}/api/hello`)).text();
    const sample = await events.next(); // the tick that closes the window
    // The 7 requests (a slow machine may push some into the next window, never more than 7).
    const next = await events.next();
    assert.equal(
      (sample.requestsPerSecond as number) + (next.requestsPerSecond as number),
      7,
      JSON.stringify([sample, next]),
    );
  } finally {
    conn.close();
  }
  assert.equal((await running.demo.stop("SIGTERM")).code, 0);
});

Deno.test("demo: src/ and examples/ are served read-only, confined to their roots", async () => {
  await using running = await startDemo(["--log", "off"]);
  const { base, tcpPort } = running;
  const io = await fetch(`${base}/src/io/reader.ts`);
  assert.equal(io.status, 200);
  assert.equal(io.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(
    await io.text(),
    await Deno.readTextFile(new URL("../../src/io/reader.ts", import.meta.url)),
  );
  const listing = await fetch(`${base}/examples/`);
  assert.match(await listing.text(), /href="http_by_hand\.ts"/);
  const dir = await fetch(`${base}/src/static`, { redirect: "manual" });
  assert.equal(dir.status, 301);
  assert.equal(dir.headers.get("location"), "/src/static/");
  const bare = await fetch(`${base}/src`, { redirect: "manual" });
  assert.equal(bare.headers.get("location"), "/src/");
  const put = await fetch(`${base}/src/io/reader.ts`, { method: "PUT", body: "x" });
  assert.equal(put.status, 405);
  await put.body?.cancel();

  // Out of the mount, sent as raw bytes so no client normalises them first.
  for (const target of ["/src/../deno.json", "/src/%2e%2e/deno.json", "/src/..%2fdeno.json"]) {
    const answer = await exchangeOn(
      await Deno.connect({ hostname: "127.0.0.1", port: tcpPort }),
      `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    assert.match(answer, /^HTTP\/1\.1 (400|404) /, target);
    assert.doesNotMatch(answer, /"tasks"/, target);
  }
  assert.equal((await running.demo.stop("SIGTERM")).code, 0);
});

Deno.test("demo: Ctrl-C ends the event streams, removes the socket file, exits 0", async () => {
  await using running = await startDemo(["--log", "off"]);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: running.tcpPort });
  try {
    await writeAll(conn, "GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
    const events = new EventReader(conn);
    await events.open();
    await events.next();
    const started = performance.now();
    const { code, stdout } = await running.demo.stop("SIGINT");
    assert.equal(code, 0);
    // Well inside the 10 s grace period: the stream was ended, not waited out.
    assert.ok(performance.now() - started < 5_000);
    assert.match(stdout, /SIGINT: ended 1 event stream\(s\), removed .*demo\.sock, bye\n$/);
    // The stream ends properly: the last chunk, then the server closes.
    assert.match(await events.rest(), /0\r\n\r\n$/);
    await assert.rejects(Deno.lstat(running.unixPath), Deno.errors.NotFound);
  } finally {
    conn.close();
  }
});

Deno.test("demo: flags are serve's; usage errors and busy ports are one line", async () => {
  {
    await using help = new Example("demo", ["--help"]);
    const { code, stdout } = await help.exit();
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: deno task demo/);
    assert.match(stdout, /--unix PATH {4}Unix socket path \(default: example\.sock\)/);
  }
  {
    await using bad = new Example("demo", ["--port", "http"]);
    const { code, stderr } = await bad.exit();
    assert.equal(code, 2);
    assert.match(stderr, /^error: --port must be an integer from 0 to 65535, not "http"/);
  }
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const port = String(busy.addr.port);
    await using demo = new Example("demo", ["--port", port, "--unix", `${dir}/d.sock`]);
    const { code, stderr } = await demo.exit();
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`^error: cannot listen on 127\\.0\\.0\\.1:${port}: `));
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatEvent: one data line and a blank line; multi-line data is refused", () => {
  assert.equal(new TextDecoder().decode(formatEvent('{"a":1}')), 'data: {"a":1}\n\n');
  assert.throws(() => formatEvent("a\nb"), TypeError);
});

Deno.test("RecentPeers counts distinct peers heard from in the last second", () => {
  let now = 10_000;
  const peers = new RecentPeers(() => now);
  const peer = (port: number): Deno.NetAddr => ({ transport: "udp", hostname: "127.0.0.1", port });
  peers.record(peer(1));
  peers.record(peer(2));
  peers.record(peer(1)); // the same peer again
  assert.equal(peers.count(), 2);
  now += 600;
  peers.record(peer(3));
  assert.equal(peers.count(), 3);
  now += 500; // 1 and 2 were last heard 1.1 s ago
  assert.equal(peers.count(), 1);
  now += 1_001;
  assert.equal(peers.count(), 0);
});

Deno.test("StatsSampler sums the transports and rates requests per tick", () => {
  const counters = (connections: number, requests: number, bytes: number) => ({
    stats: () => ({ connections, requests, bytesIn: bytes, bytesOut: 2 * bytes, engineErrors: 0 }),
  });
  const sources: Sources = { tcp: counters(2, 10, 100), unix: counters(1, 5, 10), udp: null };
  const sampler = new StatsSampler(sources, () => 42);
  assert.deepEqual(sampler.tick(), {
    time: 42,
    connections: { tcp: 2, unix: 1, udp: 0 },
    requestsPerSecond: 0, // no window closed yet
    bytesIn: 110,
    bytesOut: 220,
  });
  sources.tcp = counters(3, 17, 100);
  sources.udp = counters(1, 2, 1);
  assert.equal(sampler.sample().requestsPerSecond, 0, "sample() does not close a window");
  assert.equal(sampler.tick().requestsPerSecond, 9);
  assert.equal(sampler.sample().requestsPerSecond, 9, "the last closed window's rate");
  assert.deepEqual(sampler.sample().connections, { tcp: 3, unix: 1, udp: 1 });
  assert.equal(sampler.tick().requestsPerSecond, 0);
});

Deno.test("demo: /api/ws relays each message to every socket; a plain GET is 426", async () => {
  await using running = await startDemo(["--log", "off"]);
  const plain = await fetch(`${running.base}/api/ws`);
  assert.equal(plain.status, 426);
  assert.equal(plain.headers.get("upgrade"), "websocket");
  await plain.body?.cancel();
  const connect = async () => {
    const ws = new WebSocket(`${running.base.replace("http", "ws")}/api/ws`);
    const lines: string[] = [];
    let arrived = Promise.withResolvers<void>();
    ws.onmessage = (e) => {
      lines.push(e.data);
      arrived.resolve();
      arrived = Promise.withResolvers();
    };
    const next = async (n: number) => {
      while (lines.length < n) await arrived.promise;
      return lines[n - 1];
    };
    assert.match(await next(1), /^you are guest\d+$/);
    return { ws, lines, next, name: lines[0].slice("you are ".length) };
  };
  const a = await connect();
  const b = await connect();
  a.ws.send("ping from a");
  assert.equal(await a.next(2), `${a.name}: ping from a`);
  assert.equal(await b.next(2), `${a.name}: ping from a`);
  const closed = [a, b].map(({ ws }) => new Promise((r) => ws.onclose = r));
  a.ws.close();
  b.ws.close();
  await Promise.all(closed);
});
