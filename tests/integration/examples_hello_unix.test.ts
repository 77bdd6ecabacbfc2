/**
 * examples/hello_unix.ts and examples/hello_client.ts, run as their deno tasks run them, in a
 * temporary directory so that `example.sock` (the default path) is the test's own.
 */
import assert from "node:assert/strict";
import { Example, readTextToEnd, runClient } from "../examples_helpers.ts";
import { requireDeno } from "../tools.ts";

/** The tasks grant the socket as `--allow-net=unix:PATH`, a permission Deno 2.9 introduced. */
const unixPermission = { ignore: requireDeno("2.9", "the example tasks' --allow-net=unix:PATH") };

const SERVER = "example:hello-unix";
const CLIENT = "example:hello-client";

function isSocket(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSocket === true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function greeting(path: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    return await readTextToEnd(conn);
  } finally {
    conn.close();
  }
}

Deno.test(
  "hello_unix greets every client, several at once, and hangs up",
  unixPermission,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hello_unix_" });
    const path = `${dir}/example.sock`;
    try {
      await using server = new Example(SERVER, [], { cwd: dir });
      await server.waitFor(/^hello_unix: listening on example\.sock/);
      assert.ok(isSocket(path), "bind() created the socket file");

      // End of file after exactly the 12 bytes: the server closed the connection.
      const answers = await Promise.all([greeting(path), greeting(path), greeting(path)]);
      assert.deepEqual(answers, ["Hello there!", "Hello there!", "Hello there!"]);

      const client = await runClient(CLIENT, [], { cwd: dir });
      assert.equal(client.code, 0, client.stderr);
      assert.equal(client.stdout, "Hello there!\n");

      const { code, stdout } = await server.stop("SIGTERM");
      assert.equal(code, 0);
      assert.match(stdout, /client 4: sent greeting/);
      assert.match(stdout, /SIGTERM: removed example\.sock/);
      assert.equal(isSocket(path), false, "the socket file is gone after SIGTERM");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("hello_unix removes its socket file on SIGINT (Ctrl-C)", unixPermission, async () => {
  const dir = await Deno.makeTempDir({ prefix: "hello_unix_" });
  const path = `${dir}/example.sock`;
  try {
    await using server = new Example(SERVER, [], { cwd: dir });
    await server.waitFor(/listening on example\.sock/);
    assert.equal(await greeting(path), "Hello there!");
    assert.ok(isSocket(path));

    const { code, stdout } = await server.stop("SIGINT");
    assert.equal(code, 0);
    assert.match(stdout, /SIGINT: removed example\.sock/);
    assert.equal(isSocket(path), false, "the socket file is gone after SIGINT");
    await assert.rejects(Deno.connect({ transport: "unix", path }), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "hello_unix replaces a stale socket file left by a killed server",
  unixPermission,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hello_unix_" });
    const path = `${dir}/example.sock`;
    try {
      {
        // SIGKILL cannot be handled: the file stays behind, with nobody listening on it.
        await using first = new Example(SERVER, [], { cwd: dir });
        await first.waitFor(/listening on/);
        await first.stop("SIGKILL");
      }
      assert.ok(isSocket(path), "a killed server leaves its socket file");
      await assert.rejects(
        Deno.connect({ transport: "unix", path }),
        Deno.errors.ConnectionRefused,
      );

      await using second = new Example(SERVER, [], { cwd: dir });
      await second.waitFor(/listening on example\.sock/);
      assert.ok(second.lines.includes("removed stale socket file example.sock"));
      assert.equal(await greeting(path), "Hello there!");
      assert.equal((await second.stop("SIGTERM")).code, 0);
      assert.equal(isSocket(path), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("hello_unix leaves a live server's socket alone", unixPermission, async () => {
  const dir = await Deno.makeTempDir({ prefix: "hello_unix_" });
  const path = `${dir}/example.sock`;
  try {
    await using first = new Example(SERVER, [], { cwd: dir });
    await first.waitFor(/listening on/);

    const second = await runClient(SERVER, [], { cwd: dir }); // runs until it exits
    assert.equal(second.code, 1);
    assert.match(second.stderr, /example\.sock is in use/);

    assert.equal(await greeting(path), "Hello there!", "the first server still answers");
    assert.equal((await first.stop("SIGTERM")).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "hello_client says how to start the server when there is none",
  unixPermission,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "hello_unix_" });
    try {
      const client = await runClient(CLIENT, [], { cwd: dir });
      assert.equal(client.code, 1);
      assert.match(client.stderr, /no server at example\.sock: start one with/);
      assert.equal(client.stdout, "");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
