/** examples/upper_tcp.ts and examples/upper_client.ts over real TCP sockets on 127.0.0.1. */
import assert from "node:assert/strict";
import {
  encode,
  Example,
  readBytes,
  readTextToEnd,
  runClient,
  writeAll,
} from "../examples_helpers.ts";

const SERVER = "example:upper-tcp";
const CLIENT = "example:upper-client";

Deno.test("upper_tcp answers each line in upper case, to several clients at once", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const connect = () => Deno.connect({ hostname: "127.0.0.1", port });
  const [a, b, c] = await Promise.all([connect(), connect(), connect()]);
  try {
    // a stays open with half a line while b and c are served: one task per connection.
    await writeAll(a, "hel");
    await writeAll(b, "abc\ndef\n"); // two lines in one write: two answers
    assert.equal(await readBytes(b, 8), "ABC\nDEF\n");

    // A two-byte character split between two writes.
    const ue = encode("grüße\n");
    await writeAll(c, ue.subarray(0, 3));
    await writeAll(c, ue.subarray(3));
    assert.equal(await readBytes(c, 8), "GRÜSSE\n"); // ß upper-cases to SS

    await writeAll(a, "lo\n"); // the line is complete only now
    assert.equal(await readBytes(a, 6), "HELLO\n");

    // A last line without "\n" is answered at end of file; then the server closes.
    await writeAll(b, "tail");
    b.closeWrite();
    assert.equal(await readTextToEnd(b), "TAIL");
    a.closeWrite();
    assert.equal(await readTextToEnd(a), "");
  } finally {
    for (const conn of [a, b, c]) conn.close();
  }
  const { code, stdout } = await server.stop("SIGTERM");
  assert.equal(code, 0);
  for (const id of [1, 2, 3]) assert.match(stdout, new RegExp(`client ${id}: connected from`));
  assert.match(stdout, /SIGTERM: closed the listener/);
});

Deno.test("upper_tcp refuses a line longer than 64 KiB and closes", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(conn, "a".repeat(64 * 1024 + 1));
    assert.equal(await readTextToEnd(conn), "ERROR: line longer than 65536 bytes\n");
  } finally {
    conn.close();
  }
  assert.equal((await server.stop("SIGINT")).code, 0);
});

Deno.test("upper_tcp hangs up on connected clients on SIGINT and exits 0", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(conn, "x\n");
    assert.equal(await readBytes(conn, 2), "X\n"); // the server has accepted us
    const { code, stdout } = await server.stop("SIGINT");
    assert.equal(code, 0);
    assert.match(stdout, /SIGINT: closed the listener and 1 connection\(s\), bye/);
    assert.equal(await readTextToEnd(conn), "");
  } finally {
    conn.close();
  }
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port }),
    Deno.errors.ConnectionRefused,
  );
});

Deno.test("upper_client sends stdin line by line and prints the answers", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = String(await server.listeningPort());
  const [one, two] = await Promise.all([
    runClient(CLIENT, ["--port", port], { input: "hello\nsockets are files\nno newline" }),
    runClient(CLIENT, ["--port", port], { input: "second client\n" }),
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(one.stdout, "HELLO\nSOCKETS ARE FILES\nNO NEWLINE\n");
  assert.equal(two.code, 0, two.stderr);
  assert.equal(two.stdout, "SECOND CLIENT\n");
  const { stdout } = await server.stop("SIGTERM");
  assert.match(stdout, /client 1: done/);
  assert.match(stdout, /client 2: done/);
});

Deno.test("upper_client reports a refused connection", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = String((probe.addr as Deno.NetAddr).port);
  probe.close(); // now nothing listens on that port
  const client = await runClient(CLIENT, ["--port", port], { input: "x\n" });
  assert.equal(client.code, 1);
  assert.match(client.stderr, /nothing listens on 127\.0\.0\.1:\d+/);
});
