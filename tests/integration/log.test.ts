/** Access log formats, escaping, and the handler wrapper over a real server. */
import assert from "node:assert/strict";
import {
  type AccessLogEntry,
  escapeLogField,
  formatCombined,
  formatCommon,
  formatJson,
  LineWriter,
  withAccessLog,
} from "../../src/cli/access_log.ts";
import { exchange, startServer } from "../helpers.ts";

const ENTRY: AccessLogEntry = {
  remote: "[::1]",
  time: new Date("2024-03-05T07:08:09.123Z"),
  method: "GET",
  target: "/a%20b.txt?x=1",
  status: 200,
  bytes: 1234,
  referer: "http://example.com/",
  userAgent: "curl/8.5.0",
  durationMs: 1.23456,
};

Deno.test("common, combined and json lines", () => {
  assert.equal(
    formatCommon(ENTRY),
    '[::1] - - [05/Mar/2024:07:08:09 +0000] "GET /a%20b.txt?x=1 HTTP/1.1" 200 1234',
  );
  assert.equal(
    formatCombined({ ...ENTRY, bytes: null, referer: null }),
    '[::1] - - [05/Mar/2024:07:08:09 +0000] "GET /a%20b.txt?x=1 HTTP/1.1" 200 - "-" "curl/8.5.0"',
  );
  assert.deepEqual(JSON.parse(formatJson(ENTRY)), {
    time: "2024-03-05T07:08:09.123Z",
    remote: "[::1]",
    method: "GET",
    target: "/a%20b.txt?x=1",
    protocol: "HTTP/1.1",
    status: 200,
    bytes: 1234,
    referer: "http://example.com/",
    user_agent: "curl/8.5.0",
    duration_ms: 1.235,
  });
});

Deno.test("quoted fields cannot forge lines or fields", () => {
  const table: [string, string][] = [
    ['a"b', 'a\\"b'],
    ["a\\b", "a\\\\b"],
    ["line\r\nforged", "line\\x0D\\x0Aforged"],
    ["tab\there", "tab\\x09here"],
    ["caf\u00e9", "caf\\xE9"],
    ["\u2028", "\\u2028"],
  ];
  for (const [input, escaped] of table) assert.equal(escapeLogField(input), escaped, input);
  const line = formatCombined({ ...ENTRY, userAgent: 'x" 200 9999 "injected\n' });
  assert.ok(!line.includes("\n"));
  assert.equal(
    line.split('"').length - 1 - (line.split('\\"').length - 1),
    6,
    "three quoted fields",
  );
});

Deno.test("withAccessLog logs status, size and peer of each response; errors as 500", async () => {
  const lines: string[] = [];
  const handler = withAccessLog(
    (request) => {
      const path = new URL(request.url).pathname;
      if (path === "/fail") throw new Error("boom");
      if (path === "/stream") return new Response(ReadableStream.from([new Uint8Array(3)]));
      const status = path === "/" ? 200 : 404;
      return new Response("hello", { status, headers: { "content-length": "5" } });
    },
    formatCombined,
    (line) => lines.push(line),
  );
  await using server = startServer(handler, { onError: () => new Response("x", { status: 500 }) });
  const send = (method: string, target: string, extra = "") =>
    exchange(
      server.port,
      `${method} ${target} HTTP/1.1\r\nHost: x\r\nUser-Agent: t/1\r\n${extra}Connection: close\r\n\r\n`,
    );
  await send("GET", "/");
  await send("HEAD", "/");
  await send("GET", "/missing?q=1", "Referer: http://r/\r\n");
  await send("GET", "/stream");
  await send("GET", "/fail");
  const pattern = /^127\.0\.0\.1 - - \[[^\]]+\] "([^"]*)" (\d{3}) (\S+) "([^"]*)" "t\/1"$/;
  const parsed = lines.map((line) => pattern.exec(line)?.slice(1));
  assert.deepEqual(parsed, [
    ["GET / HTTP/1.1", "200", "5", "-"],
    ["HEAD / HTTP/1.1", "200", "-", "-"],
    ["GET /missing?q=1 HTTP/1.1", "404", "5", "http://r/"],
    ["GET /stream HTTP/1.1", "200", "-", "-"], // streamed: length unknown
    ["GET /fail HTTP/1.1", "500", "-", "-"],
  ]);
});

Deno.test("withAccessLog: an IPv6 peer is logged in brackets", async () => {
  const lines: string[] = [];
  const handler = withAccessLog(() => new Response("ok"), formatCommon, (l) => lines.push(l));
  await using server = startServer(handler, { hostname: "::1" });
  const conn = await Deno.connect({ hostname: "::1", port: server.port });
  await conn.write(
    new TextEncoder().encode("GET /six HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
  );
  await new Response(conn.readable).arrayBuffer();
  assert.match(lines[0], /^\[::1\] - - \[[^\]]+\] "GET \/six HTTP\/1\.1" 200 /);
});

const decoder = new TextDecoder();

/** A sink that records each write, taking at most `step` bytes a call; `wrote` settles on the next. */
function recordingSink(step = Infinity) {
  const sink = {
    writes: [] as string[],
    calls: 0,
    wrote: Promise.withResolvers<void>(),
    writeSync(bytes: Uint8Array): number {
      const n = Math.min(step, bytes.length);
      sink.writes.push(decoder.decode(bytes.subarray(0, n)));
      sink.calls++;
      sink.wrote.resolve();
      sink.wrote = Promise.withResolvers<void>();
      return n;
    },
  };
  return sink;
}

Deno.test("LineWriter: the lines of one turn leave together, after the turn", async () => {
  const sink = recordingSink();
  const lines = new LineWriter(sink);
  const wrote = sink.wrote.promise;
  lines.write("one");
  lines.write("two");
  lines.write("three");
  assert.equal(sink.calls, 0, "nothing written during the turn");
  await wrote;
  assert.deepEqual(sink.writes, ["one\ntwo\nthree\n"]);
});

Deno.test("LineWriter: flush writes at once, and nothing is written twice", async () => {
  const sink = recordingSink();
  const lines = new LineWriter(sink);
  lines.write("a");
  lines.flush();
  assert.deepEqual(sink.writes, ["a\n"]);
  lines.flush();
  // The timer the first line started was cleared: a later line is the next write.
  const wrote = sink.wrote.promise;
  lines.write("b");
  await wrote;
  assert.deepEqual(sink.writes, ["a\n", "b\n"]);
});

Deno.test("LineWriter: no write over 4 KiB, no line split between writes", () => {
  const sink = recordingSink();
  const lines = new LineWriter(sink);
  const written: string[] = [];
  for (let i = 0; i < 300; i++) {
    // 100 characters, some of them two or three bytes in UTF-8.
    const line = `${i} ${"é€x".repeat(30)}`.padEnd(100, "-");
    written.push(line);
    lines.write(line);
  }
  lines.flush();
  assert.ok(sink.writes.length > 1);
  for (const write of sink.writes) {
    assert.ok(new TextEncoder().encode(write).length <= 4096);
    assert.ok(write.endsWith("\n"), "each write ends a line");
  }
  assert.equal(sink.writes.join(""), written.map((line) => `${line}\n`).join(""));
});

Deno.test("LineWriter: a line longer than the buffer goes whole on its own", () => {
  const sink = recordingSink();
  const lines = new LineWriter(sink);
  lines.write("before");
  lines.write("x".repeat(5000));
  lines.write("after");
  lines.flush();
  assert.deepEqual(sink.writes, ["before\n", `${"x".repeat(5000)}\n`, "after\n"]);
});

Deno.test("LineWriter: partial writes are continued; a broken sink is ignored", () => {
  const partial = recordingSink(3);
  const lines = new LineWriter(partial);
  lines.write("abcdefgh");
  lines.flush();
  assert.equal(partial.writes.join(""), "abcdefgh\n");
  assert.equal(partial.calls, 3);

  const broken = new LineWriter({
    writeSync(): number {
      throw new Deno.errors.BrokenPipe("the reader went away");
    },
  });
  broken.write("lost");
  broken.flush();
});
