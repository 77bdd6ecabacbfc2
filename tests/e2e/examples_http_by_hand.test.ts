/** examples/http_by_hand.ts run as its deno task, talked to with raw bytes and with curl. */
import assert from "node:assert/strict";
import { deadline, Example, readTextToEnd, writeAll } from "../examples_helpers.ts";
import { needs } from "../tools.ts";

const withCurl = needs("curl");

const SERVER = "example:http-by-hand";

function expected(status: string, body: string): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${new TextEncoder().encode(body).length}\r\nConnection: close\r\n\r\n${body}`;
}

Deno.test("http_by_hand reads until the blank line, however the head arrives", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const connect = () => Deno.connect({ hostname: "127.0.0.1", port });
  const [slow, quick] = await Promise.all([connect(), connect()]);
  try {
    // `slow` sends its head a few bytes at a time, and stops short of the blank line...
    const head = "GET /by/hand?x=1 HTTP/1.1\r\nHost: example\r\n\r\n";
    for (const piece of head.slice(0, -2).match(/.{1,5}/gs)!) await writeAll(slow, piece);
    // ...while `quick` is answered in full: one task per connection, nobody waits for `slow`.
    await writeAll(quick, "GET /quick HTTP/1.0\r\n\r\n");
    assert.equal(
      await readTextToEnd(quick),
      expected("200 OK", "Hello there! You asked for GET /quick\n"),
    );

    await writeAll(slow, "\r\n"); // only now is the head complete
    assert.equal(
      await readTextToEnd(slow),
      expected("200 OK", "Hello there! You asked for GET /by/hand?x=1\n"),
    );
  } finally {
    slow.close();
    quick.close();
  }
  const { code, stdout } = await server.stop("SIGTERM");
  assert.equal(code, 0);
  assert.match(stdout, /SIGTERM: closed the listener, bye/);
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("http_by_hand refuses a bad request line (400) and an endless head (431)", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const exchange = async (bytes: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await writeAll(conn, bytes);
      return await readTextToEnd(conn);
    } finally {
      conn.close();
    }
  };
  assert.equal(await exchange("HELLO\r\n\r\n"), expected("400 Bad Request", "Bad request line\n"));
  // 9 KiB of header field lines and no blank line: the reader stops at its 8 KiB limit.
  const endless = "GET / HTTP/1.1\r\n" + "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(230);
  assert.equal(
    await exchange(endless),
    expected("431 Request Header Fields Too Large", "Request head too large\n"),
  );
  assert.equal((await server.stop("SIGINT")).code, 0);
});

withCurl.test("http_by_hand answers curl", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const curl = new Deno.Command("curl", {
    args: ["--silent", "--show-error", "--include", `http://127.0.0.1:${port}/from/curl`],
    stdout: "piped",
    stderr: "piped",
  });
  const { code, stdout, stderr } = await deadline(curl.output(), "curl to finish");
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const text = new TextDecoder().decode(stdout);
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nContent-Length: 42\r\n/);
  assert.ok(text.endsWith("\r\n\r\nHello there! You asked for GET /from/curl\n"), text);
  assert.equal((await server.stop("SIGTERM")).code, 0);
});
