/**
 * Real `curl` against `serve()` over TCP on 127.0.0.1: verbose exchanges, binary uploads echoed
 * back byte for byte (Content-Length and chunked), HTTP/1.0 with and without keep-alive, HEAD,
 * several requests over one kept-alive connection, and `Expect: 100-continue`.
 *
 * The server runs the parity handler (tests/fixtures/parity_handler.ts); `/echo` answers with the
 * request body and `x-received-bytes`.
 */
import assert from "node:assert/strict";
import { handler } from "../fixtures/parity_handler.ts";
import { run, startServer } from "../helpers.ts";
import { needs } from "../tools.ts";

const withCurl = needs("curl");

const HELLO = "Hello from the parity handler!\n";

/** A temp file of `size` random bytes; removed on dispose. */
async function randomFile(
  size: number,
): Promise<{ path: string; bytes: Uint8Array } & AsyncDisposable> {
  const bytes = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) {
    crypto.getRandomValues(bytes.subarray(off, Math.min(size, off + 65536)));
  }
  const path = await Deno.makeTempFile({ prefix: "sockserve-curl-" });
  await Deno.writeFile(path, bytes);
  return { path, bytes, [Symbol.asyncDispose]: () => Deno.remove(path) };
}

async function tempPath(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempFile({ prefix: "sockserve-curl-out-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path).catch(() => {}),
  };
}

/** curl's -v lines starting with `prefix` ("< " received, "> " sent, "* " info), prefix removed. */
function lines(stderr: string, prefix: string): string[] {
  return stderr.split(/\r?\n/).filter((l) => l.startsWith(prefix)).map((l) =>
    l.slice(prefix.length)
  );
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

function curl(args: string[]) {
  // -sS: no progress meter, but errors; --max-time: a hang fails instead of stalling the suite.
  return run("curl", ["-sS", "--max-time", "30", ...args]);
}

withCurl.test("curl -v: request and response lines as sent on the wire", async () => {
  await using server = startServer(handler);
  const { code, stdout, stderr } = await curl(["-v", `${server.origin}/text`]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, HELLO);
  const sent = lines(stderr, "> ");
  assert.equal(sent[0], "GET /text HTTP/1.1");
  assert.ok(sent.includes(`Host: 127.0.0.1:${server.port}`));
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received[0], "http/1.1 200 ok");
  assert.ok(received.includes(`content-length: ${new TextEncoder().encode(HELLO).length}`));
  assert.ok(received.includes("content-type: text/plain; charset=utf-8"));
  assert.ok(received.some((l) => /^date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} gmt$/.test(l)));
  // HTTP/1.1 keeps the connection: curl leaves it open instead of being told to close.
  assert.ok(!received.includes("connection: close"));
  assert.match(stderr, /Connection #0 to host 127\.0\.0\.1 left intact/);
});

withCurl.test("curl --data-binary @file: 1 MiB of random bytes echoed back unchanged", async () => {
  await using server = startServer(handler);
  await using file = await randomFile(1024 * 1024);
  await using out = await tempPath();
  const { code, stderr } = await curl([
    "-v",
    "-H",
    "Expect:", // plain Content-Length upload; 100-continue has its own test
    "-H",
    "Content-Type: application/octet-stream",
    "--data-binary",
    `@${file.path}`,
    "-o",
    out.path,
    `${server.origin}/echo`,
  ]);
  assert.equal(code, 0, stderr);
  const sent = lines(stderr, "> ");
  assert.equal(sent[0], "POST /echo HTTP/1.1");
  assert.ok(sent.includes(`Content-Length: ${file.bytes.length}`));
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received[0], "http/1.1 200 ok");
  assert.ok(received.includes(`x-received-bytes: ${file.bytes.length}`));
  assert.deepEqual(await Deno.readFile(out.path), file.bytes);
});

withCurl.test("curl -H 'Transfer-Encoding: chunked' --data-binary @file: echoed back unchanged", async () => {
  await using server = startServer(handler);
  await using file = await randomFile(300 * 1024 + 17);
  await using out = await tempPath();
  const { code, stderr } = await curl([
    "-v",
    "-H",
    "Expect:",
    "-H",
    "Transfer-Encoding: chunked",
    "--data-binary",
    `@${file.path}`,
    "-o",
    out.path,
    `${server.origin}/echo`,
  ]);
  assert.equal(code, 0, stderr);
  const sent = lines(stderr, "> ");
  assert.ok(sent.includes("Transfer-Encoding: chunked"));
  assert.ok(!sent.some((l) => l.toLowerCase().startsWith("content-length")));
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received[0], "http/1.1 200 ok");
  assert.ok(received.includes(`x-received-bytes: ${file.bytes.length}`));
  assert.deepEqual(await Deno.readFile(out.path), file.bytes);
});

withCurl.test("curl --http1.0: an HTTP/1.0 answer, and the connection closes", async () => {
  await using server = startServer(handler);
  const { code, stdout, stderr } = await curl([
    "-v",
    "--http1.0",
    `${server.origin}/text`,
    "--next",
    "--http1.0",
    `${server.origin}/text`,
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, HELLO + HELLO);
  assert.deepEqual(lines(stderr, "> ").filter((l) => l.startsWith("GET")), [
    "GET /text HTTP/1.0",
    "GET /text HTTP/1.0",
  ]);
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received.filter((l) => l === "http/1.0 200 ok").length, 2);
  assert.ok(received.includes("connection: close"));
  // Not kept alive: the second transfer needs a new connection.
  assert.equal(count(stderr, "Re-using existing connection"), 0);
  assert.equal(count(stderr, "Connected to 127.0.0.1"), 2);
});

withCurl.test("curl --http1.0 with Connection: keep-alive: the connection is reused", async () => {
  await using server = startServer(handler);
  const { code, stdout, stderr } = await curl([
    "-v",
    "--http1.0",
    "-H",
    "Connection: keep-alive",
    `${server.origin}/text`,
    "--next",
    "--http1.0",
    "-H",
    "Connection: keep-alive",
    `${server.origin}/json`,
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.slice(0, HELLO.length), HELLO);
  assert.equal(JSON.parse(stdout.slice(HELLO.length)).nested.name, "sockserve");
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received.filter((l) => l === "http/1.0 200 ok").length, 2);
  assert.equal(received.filter((l) => l === "connection: keep-alive").length, 2);
  assert.equal(count(stderr, "Re-using existing connection"), 1);
  assert.equal(count(stderr, "Connected to 127.0.0.1"), 1);
});

withCurl.test("curl --http1.0 of a streamed body: close-delimited, complete", async () => {
  await using server = startServer(handler);
  const { code, stdout, stderr } = await curl(["-v", "--http1.0", `${server.origin}/stream?n=4`]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, Array.from({ length: 4 }, (_, i) => `chunk ${i + 1} of 4\n`).join(""));
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received[0], "http/1.0 200 ok");
  // HTTP/1.0 has no chunked coding: the body ends with the connection.
  assert.ok(!received.some((l) => l.startsWith("transfer-encoding")));
  assert.ok(!received.some((l) => l.startsWith("content-length")));
  assert.ok(received.includes("connection: close"));
});

withCurl.test("curl -I: HEAD gets the GET's headers and no body", async () => {
  await using server = startServer(handler);
  const get = await curl(["-sS", "-D", "-", "-o", "/dev/null", `${server.origin}/text`]);
  const head = await curl(["-I", `${server.origin}/text`]);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(head.code, 0, head.stderr);
  const significant = (text: string) =>
    text.split("\r\n").filter((l) => l !== "" && !/^date:/i.test(l)).map((l) => l.toLowerCase());
  // stdout of -I is the header block only: any body bytes would show up here.
  assert.ok(head.stdout.endsWith("\r\n\r\n"));
  assert.deepEqual(significant(head.stdout), significant(get.stdout));
  assert.ok(significant(head.stdout).includes(`content-length: ${HELLO.length}`));
});

withCurl.test("curl --next: several requests over one kept-alive connection", async () => {
  await using server = startServer(handler);
  const { code, stdout, stderr } = await curl([
    "-v",
    "-w",
    "[connects=%{num_connects} status=%{http_code}]\n",
    `${server.origin}/text`,
    "--next",
    "-w",
    "[connects=%{num_connects} status=%{http_code}]\n",
    "-H",
    "Expect:",
    "--data-binary",
    "posted body",
    `${server.origin}/echo`,
    "--next",
    "-w",
    "[connects=%{num_connects} status=%{http_code}]\n",
    `${server.origin}/missing`,
    "--next",
    "-w",
    "[connects=%{num_connects} status=%{http_code}]\n",
    "-I",
    `${server.origin}/text`,
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(count(stderr, "Re-using existing connection"), 3);
  assert.equal(count(stderr, "Connected to 127.0.0.1"), 1);
  assert.deepEqual(
    [...stdout.matchAll(/\[connects=(\d+) status=(\d+)\]/g)].map((m) => `${m[1]}:${m[2]}`),
    ["1:200", "0:200", "0:404", "0:200"],
  );
  assert.ok(stdout.startsWith(HELLO));
  assert.ok(stdout.includes("posted body[connects=0 status=200]"));
  assert.ok(stdout.includes("no route for GET /missing\n"));
});

withCurl.test("curl -H 'Expect: 100-continue': 100 Continue, then the body is echoed", async () => {
  await using server = startServer(handler);
  await using file = await randomFile(64 * 1024);
  await using out = await tempPath();
  const { code, stderr } = await curl([
    "-v",
    // If no 100 came, curl would send the body anyway after this many seconds; the assertion on
    // the 100 line below then fails rather than passing after a wait.
    "--expect100-timeout",
    "20",
    "-H",
    "Expect: 100-continue",
    "--data-binary",
    `@${file.path}`,
    "-o",
    out.path,
    `${server.origin}/echo`,
  ]);
  assert.equal(code, 0, stderr);
  assert.ok(lines(stderr, "> ").includes("Expect: 100-continue"));
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received[0], "http/1.1 100 continue");
  assert.ok(received.includes("http/1.1 200 ok"));
  assert.ok(received.includes(`x-received-bytes: ${file.bytes.length}`));
  assert.deepEqual(await Deno.readFile(out.path), file.bytes);
});

withCurl.test("curl -H 'Expect: 100-continue' to a route that never reads: no 100, final answer", async () => {
  await using server = startServer(handler);
  await using file = await randomFile(16 * 1024);
  const { code, stdout, stderr } = await curl([
    "-v",
    "--expect100-timeout",
    "20",
    "-H",
    "Expect: 100-continue",
    "--data-binary",
    `@${file.path}`,
    `${server.origin}/text`, // answers 405 without touching the body
  ]);
  assert.equal(code, 0, stderr);
  const received = lines(stderr, "< ").map((l) => l.toLowerCase());
  assert.equal(received[0], "http/1.1 405 method not allowed");
  assert.ok(!received.some((l) => l.includes("100 continue")));
  assert.equal(stdout, "method not allowed\n");
});
