/** examples/embed.ts run as its deno task: its own routes, the file server for the rest. */
import assert from "node:assert/strict";
import { Example } from "../examples_helpers.ts";

const SERVER = "example:embed";

Deno.test("embed answers its routes and serves www/ for everything else", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const [, port] = await server.waitFor(
    /^embed: listening on 127\.0\.0\.1:(\d+) \(files from www\)$/,
  );
  const base = `http://127.0.0.1:${port}`;

  const hello = await fetch(`${base}/hello`);
  assert.equal(hello.status, 200);
  assert.equal(await hello.text(), "Hello there!\n");

  const echo = await fetch(`${base}/echo`, { method: "POST", body: "grüße, sockets" });
  assert.equal(await echo.text(), "grüße, sockets");

  const whoami = await (await fetch(`${base}/whoami`)).json();
  assert.equal(whoami.transport, "tcp");
  assert.equal(whoami.address, "127.0.0.1");

  const wrongMethod = await fetch(`${base}/hello`, { method: "DELETE" });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "GET");
  await wrongMethod.body?.cancel();

  // Not a route: the file server answers, with the real files of www/.
  const index = await fetch(`${base}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
  assert.equal(
    await index.text(),
    await Deno.readTextFile(new URL("../../www/index.html", import.meta.url)),
  );
  const script = await fetch(`${base}/app.js`);
  assert.match(script.headers.get("content-type") ?? "", /javascript/);
  await script.body?.cancel();
  const missing = await fetch(`${base}/no-such-page`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();

  const { code, stdout } = await server.stop("SIGTERM");
  assert.equal(code, 0);
  assert.match(stdout, /SIGTERM: shutting down\nembed: stopped, bye\n$/);
});

Deno.test("embed exits with an error when its root does not exist", async () => {
  await using server = new Example(SERVER, ["--port", "0", "--root", "www/no-such-dir"]);
  const { code, stdout, stderr } = await server.exit();
  assert.notEqual(code, 0);
  assert.equal(stdout, "");
  assert.match(stderr, /^embed: cannot serve files from www\/no-such-dir: /);
});
