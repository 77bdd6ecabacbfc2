/**
 * The rest of Deno.serve's handler contract, over real sockets: `request.signal` aborts when the
 * answer cannot be sent (the client left, requestTimeout's 503, the end of shutdown's grace
 * period), `info.completed` says whether it was; and the server's side: `ref`/`unref`,
 * `tcpBacklog`, the request body limit's default.
 */
import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../mod.ts";
import { Client, deferred, exchange, parseResponses, startServer } from "../helpers.ts";

const GET = "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n";

/** What the handler saw of its request's fate. */
interface Fate {
  aborted: Promise<string>;
  completed: Promise<string>;
}

/** A handler that waits until its request's signal aborts (or `release` is called). */
function waiter() {
  const aborted = deferred<string>();
  const completed = deferred<string>();
  const called = deferred();
  const release = deferred();
  const handler = async (request: Request, info: Deno.ServeHandlerInfo) => {
    info.completed.then(() => completed.resolve("resolved"), (error) => {
      completed.resolve(`rejected: ${error.name}`);
    });
    request.signal.addEventListener("abort", () => {
      aborted.resolve(request.signal.reason.name);
    });
    called.resolve();
    await Promise.race([release.promise, aborted.promise]);
    return new Response("late");
  };
  const fate: Fate = { aborted: aborted.promise, completed: completed.promise };
  return { handler, fate, called: called.promise, release: release.resolve };
}

Deno.test("request.signal aborts when the client leaves before its answer, and completed rejects", async () => {
  const { handler, fate, called } = waiter();
  await using s = startServer(handler);
  const client = await Client.connect(s.port);
  await client.send(GET);
  await called;
  client.close();
  assert.equal(await fate.aborted, "AbortError");
  assert.equal(await fate.completed, "rejected: Interrupted");
});

Deno.test("request.signal aborts when a client leaves in the middle of a streamed answer, and the stream is cancelled", async () => {
  const aborted = deferred<boolean>();
  const cancelled = deferred();
  await using s = startServer((request) => {
    request.signal.addEventListener("abort", () => aborted.resolve(true));
    return new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("data: first\n\n"));
        },
        cancel: () => cancelled.resolve(),
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await conn.write(new TextEncoder().encode(GET));
  const buf = new Uint8Array(4096);
  let seen = "";
  while (!seen.includes("data: first")) {
    const n = await conn.read(buf);
    assert.notEqual(n, null);
    seen += new TextDecoder().decode(buf.subarray(0, n!));
  }
  conn.close();
  assert.equal(await aborted.promise, true);
  await cancelled.promise;
});

Deno.test("request.signal aborts at requestTimeout's 503, and completed rejects", async () => {
  const { handler, fate } = waiter();
  await using s = startServer(handler, { limits: { requestTimeout: 100 } });
  const [response] = parseResponses(await exchange(s.port, GET));
  assert.equal(response.status, 503);
  assert.equal(await fate.aborted, "AbortError");
  assert.equal(await fate.completed, "rejected: Interrupted");
});

Deno.test("request.signal aborts when shutdown's grace period ends with the request unfinished", async () => {
  const { handler, fate, called } = waiter();
  const s = startServer(handler, { limits: { shutdownGracePeriod: 100 } });
  const client = await Client.connect(s.port);
  try {
    await client.send(GET);
    await called;
    await s.server.shutdown();
    assert.equal(await fate.aborted, "AbortError");
    assert.equal(await fate.completed, "rejected: Interrupted");
    assert.equal(await client.rest(), "", "the connection closes without an answer");
  } finally {
    client.close();
  }
});

Deno.test("a request answered in full: completed resolves, the signal stays unaborted", async () => {
  const { handler, fate, called, release } = waiter();
  let signal: AbortSignal | undefined;
  await using s = startServer((request, info) => {
    signal = request.signal;
    return handler(request, info);
  });
  const client = await Client.connect(s.port);
  try {
    await client.send(GET);
    await called;
    release();
    assert.equal((await client.response()).body, "late");
    assert.equal(await fate.completed, "resolved");
    assert.equal(signal!.aborted, false);
  } finally {
    client.close();
  }
});

Deno.test("completed rejects when the client leaves in the middle of a large body", async () => {
  const big = new Uint8Array(8 * 1024 * 1024).fill(0x61);
  const outcome = deferred<string>();
  await using s = startServer((_request, info) => {
    info.completed.then(() => outcome.resolve("resolved"), () => outcome.resolve("rejected"));
    return new Response(big);
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await conn.write(new TextEncoder().encode(GET));
  // One read, far less than the body: the rest waits in the server's writes.
  assert.notEqual(await conn.read(new Uint8Array(1024)), null);
  conn.close();
  assert.equal(await outcome.promise, "rejected");
});

Deno.test("completed rejects when the handler's body is shorter than its Content-Length", async () => {
  const outcome = deferred<string>();
  await using s = startServer((_request, info) => {
    info.completed.then(() => outcome.resolve("resolved"), () => outcome.resolve("rejected"));
    return new Response(
      new ReadableStream({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode("short"));
          controller.close();
        },
      }),
      { headers: { "content-length": "100" } },
    );
  });
  await exchange(s.port, GET);
  assert.equal(await outcome.promise, "rejected");
});

Deno.test("completed read after the answer was sent is already resolved", async () => {
  const info = deferred<Deno.ServeHandlerInfo>();
  await using s = startServer((_request, i) => {
    info.resolve(i);
    return new Response("ok");
  });
  const client = await Client.connect(s.port);
  try {
    await client.send(GET);
    await client.response();
    // The next request on the connection proves the first one's answer was written whole.
    await client.send(GET);
    await client.response();
    await (await info.promise).completed;
  } finally {
    client.close();
  }
});

Deno.test("behind a trusted proxy the handler's info keeps completed, with the client's address", async () => {
  const outcome = deferred<string>();
  await using s = startServer((_request, info) => {
    info.completed.then(() => outcome.resolve("resolved"), () => outcome.resolve("rejected"));
    return new Response((info.remoteAddr as Deno.NetAddr).hostname);
  }, { trustProxy: ["127.0.0.1"] });
  const [response] = parseResponses(
    await exchange(
      s.port,
      "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n",
    ),
  );
  assert.equal(response.body, "203.0.113.7");
  assert.equal(await outcome.promise, "resolved");
});

Deno.test("the request body limit's default is 128 MiB: a 9 MiB upload passes, 128 MiB + 1 is refused", async () => {
  assert.equal(DEFAULT_LIMITS.maxBodyBytes, 128 * 1024 * 1024);
  await using s = startServer(async (request) =>
    new Response(String((await request.arrayBuffer()).byteLength))
  );
  const size = 9 * 1024 * 1024;
  const response = await fetch(`${s.origin}/`, { method: "POST", body: new Uint8Array(size) });
  assert.equal(await response.text(), String(size));
  const [refused] = parseResponses(
    await exchange(
      s.port,
      `POST / HTTP/1.1\r\nHost: t\r\nContent-Length: ${128 * 1024 * 1024 + 1}\r\n\r\n`,
    ),
  );
  assert.equal(refused.status, 413);
});

Deno.test("tcpBacklog reaches the listening socket (ss shows it as the listener's Send-Q)", async (t) => {
  const ss = await new Deno.Command("ss", { args: ["-V"], stdout: "null", stderr: "null" })
    .output().then((out) => out.success, () => false);
  if (!ss) {
    if (Deno.env.get("SOCKSERVE_REQUIRE_TOOLS") === "1") throw new Error("ss is not installed");
    console.log("skipped: ss (iproute2) is not installed");
    await t.step({ name: "ss is not installed", ignore: true, fn() {} });
    return;
  }
  await using s = startServer(() => new Response("ok"), { tcpBacklog: 7 });
  const out = await new Deno.Command("ss", { args: ["-ltnH", `sport = :${s.port}`] }).output();
  const columns = new TextDecoder().decode(out.stdout).trim().split(/\s+/);
  assert.equal(columns[0], "LISTEN");
  assert.equal(columns[2], "7");
});

const MOD = new URL("../../mod.ts", import.meta.url).href;

/** Runs `script` in a child Deno (stdout piped), killed if it outlives `ms`. */
async function child(script: string, ms = 20_000): Promise<Deno.ChildProcess> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(ms),
  }).spawn();
  const writer = process.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  return process;
}

Deno.test("an unref'd server, with idle keep-alive connections open, lets the process end", async () => {
  // One connection opened before unref() (its read in flight then), one after.
  const script = `
    import { serve } from "${MOD}";
    const limits = { keepAliveTimeout: 600_000, headersTimeout: 600_000 };
    const server = serve({ hostname: "127.0.0.1", port: 0, onListen() {}, limits }, () => new Response("ok"));
    async function request() {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await conn.write(new TextEncoder().encode("GET / HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n"));
      return (await conn.read(new Uint8Array(1024))) !== null;
    }
    const before = await request();
    server.unref();
    console.log("answered:", before, await request());
  `;
  const process = await child(script);
  const { code, stdout } = await process.output();
  assert.equal(new TextDecoder().decode(stdout).trim(), "answered: true true");
  assert.equal(code, 0, "the process ended by itself (a kill would be 143)");
});

Deno.test("ref() after unref() keeps the process alive again", async () => {
  const script = `
    import { serve } from "${MOD}";
    const server = serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("alive"));
    server.unref();
    server.ref();
    console.log(server.addr.port);
  `;
  const process = await child(script);
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    assert.equal(done, false, "the child ended before it printed its port");
    text += value;
  }
  // The child's module has run to its end: only the server can still be answering.
  const response = await fetch(`http://127.0.0.1:${Number(text)}/`);
  assert.equal(await response.text(), "alive");
  process.kill("SIGTERM");
  await reader.cancel();
  assert.notEqual((await process.status).code, 0);
});
