/**
 * sockserve behind real load balancers on loopback: nginx (HTTP upstream, X-Forwarded-For under
 * --trust-proxy) and HAProxy (TCP with send-proxy-v2, active health checks), each in front of two
 * `deno task serve` instances on port 0. Requests spread over both; the client's address reaches
 * the access log; stopping one instance (its health check answers 503 first, then it drains)
 * loses no request.
 *
 * The client is curl bound to 127.0.0.2, so its address differs from the balancer's 127.0.0.1.
 * nginx and HAProxy run in the foreground with generated configs, pid and log files in a temp
 * dir, and are killed in `finally`. Both are installed by .ci/run; without them the tests fail.
 */
import assert from "node:assert/strict";
import { exchange, parseResponses, run } from "../helpers.ts";
import { type CliProcess, startCli } from "../cli_helpers.ts";
import { needs } from "../tools.ts";

/** The balancer tests run the balancer, and curl as the client. */
const withNginx = needs("curl", "nginx");
const withHaproxy = needs("curl", "haproxy");

const CLIENT_ADDRESS = "127.0.0.2";

/** One sockserve instance serving `id.txt` = its name; its stdout lines collected as they come. */
interface Instance {
  name: string;
  port: number;
  cli: CliProcess;
  lines: string[];
  /** Resolves when stdout ends (the process exited). */
  ended: Promise<void>;
  /** GET straight to the instance, with the PROXY header it expects, if it expects one. */
  direct(path: string): Promise<{ status: number; body: string }>;
}

async function startInstance(dir: string, name: string, flags: string[]): Promise<Instance> {
  const root = `${dir}/root-${name}`;
  await Deno.mkdir(root);
  await Deno.writeTextFile(`${root}/id.txt`, name);
  const cli = await startCli([root, "--port", "0", ...flags]);
  const first = (await cli.nextLine()) ?? "";
  const port = Number(/^Listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(first)?.[1]);
  assert.ok(port > 0, `startup line: ${first}`);
  const lines: string[] = [];
  const ended = (async () => {
    for (let line = await cli.nextLine(); line !== null; line = await cli.nextLine()) {
      lines.push(line);
    }
  })();
  const prefix = flags.includes("--proxy-protocol") ? "PROXY TCP4 127.0.0.1 127.0.0.1 1 2\r\n" : "";
  return { name, port, cli, lines, ended, direct: (path) => get(port, path, prefix) };
}

/** GET over a fresh connection (so a TCP balancer picks a server per request). */
async function get(
  port: number,
  path: string,
  prefix = "",
): Promise<{ status: number; body: string }> {
  const text = await exchange(
    port,
    `${prefix}GET ${path} HTTP/1.1\r\nHost: lb.test\r\nConnection: close\r\n\r\n`,
  );
  const [response] = parseResponses(text);
  if (!response) throw new Error(`no response for ${path}`);
  return { status: response.status, body: response.body };
}

/** Retries `attempt` until it returns true: at most `tries` times, `pauseMs` apart. */
async function until(what: string, attempt: () => Promise<boolean>, tries = 250, pauseMs = 20) {
  for (let i = 0; i < tries; i++) {
    if (await attempt().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** Starts a balancer in the foreground; killed (and its pipes drained) on dispose. */
function spawnBalancer(
  cmd: string,
  args: string[],
): AsyncDisposable & { child: Deno.ChildProcess } {
  const child = new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const output = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return {
    child,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited already
      }
      await child.status;
      await output;
    },
  };
}

/** curl from CLIENT_ADDRESS, with a forged X-Forwarded-For the balancer must not pass as fact. */
async function curlFromClient(port: number, path: string): Promise<string> {
  const curl = await run("curl", [
    "-sS",
    "--interface",
    CLIENT_ADDRESS,
    "-H",
    "X-Forwarded-For: 6.6.6.6",
    `http://127.0.0.1:${port}${path}`,
  ]);
  assert.equal(curl.code, 0, curl.stderr);
  return curl.stdout;
}

/**
 * The drain: SIGTERM `victim`; its health check turns 503 while it still serves; requests sent
 * through the balancer meanwhile, and after it has exited, all succeed.
 */
async function stopOneLosingNothing(lbPort: number, victim: Instance, other: Instance) {
  const results: { status: number; body: string }[] = [];
  let exited = false;
  const traffic = (async () => {
    // Until the victim has exited, then a few more: every one must be a 200 from someone.
    for (let after = 0, sent = 0; after < 10 && sent < 5000; after += exited ? 1 : 0, sent++) {
      results.push(await get(lbPort, "/id.txt").catch((e) => ({ status: 0, body: String(e) })));
    }
  })();
  victim.cli.child.kill("SIGTERM");
  await until("the victim's health check to answer 503", async () => {
    return (await victim.direct("/healthz")).status === 503;
  });
  // Still serving during the drain delay: the balancer is told, not cut off.
  assert.equal((await victim.direct("/id.txt")).body, victim.name);
  assert.equal((await victim.cli.child.status).code, 0);
  exited = true;
  await traffic;
  const failed = results.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${results.length} requests failed`);
  assert.ok(results.length >= 10);
  assert.equal(results.at(-1)!.body, other.name, "after the stop, the other instance serves");
}

/** The access log line of a request from the curl client, in whichever instance served it. */
async function clientLogLine(instances: Instance[], path: string): Promise<string> {
  let found: string | undefined;
  await until(`the access log line of ${path}`, () => {
    found = instances.flatMap((i) => i.lines).find((line) => line.includes(`"GET ${path} `));
    return Promise.resolve(found !== undefined);
  });
  return found!;
}

async function withInstances(
  flags: string[],
  body: (dir: string, a: Instance, b: Instance) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-lb-" });
  const instances: Instance[] = [];
  try {
    for (const name of ["A", "B"]) instances.push(await startInstance(dir, name, flags));
    await body(dir, instances[0], instances[1]);
  } finally {
    for (const instance of instances) {
      await instance.cli[Symbol.asyncDispose]();
      await instance.ended;
    }
    await Deno.remove(dir, { recursive: true });
  }
}

withNginx.test("nginx upstream: spread, X-Forwarded-For under --trust-proxy, drain loses nothing", async () => {
  const flags = ["--trust-proxy", "127.0.0.1", "--health", "/healthz", "--drain-delay", "1000"];
  await withInstances(flags, async (dir, a, b) => {
    const port = freePort();
    const conf = `${dir}/nginx.conf`;
    await Deno.writeTextFile(
      conf,
      `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream sockserve {
    server 127.0.0.1:${a.port} max_fails=1 fail_timeout=10s;
    server 127.0.0.1:${b.port} max_fails=1 fail_timeout=10s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://sockserve;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502;
    }
  }
}
`,
    );
    await using _nginx = spawnBalancer("nginx", [
      "-c",
      conf,
      "-p",
      dir,
      "-e",
      `${dir}/nginx-error.log`,
    ]);
    await until("nginx to answer", async () => (await get(port, "/id.txt")).status === 200);

    const served = new Set<string>();
    for (let i = 0; i < 6; i++) served.add((await get(port, "/id.txt")).body);
    assert.deepEqual([...served].sort(), ["A", "B"], "requests spread over both instances");

    // The client's own address, not nginx's and not the forged one, reaches the access log.
    assert.match(await curlFromClient(port, "/id.txt?from=curl"), /^[AB]$/);
    const line = await clientLogLine([a, b], "/id.txt?from=curl");
    assert.match(line, new RegExp(`^${CLIENT_ADDRESS.replaceAll(".", "\\.")} - - `));
    assert.ok(![...a.lines, ...b.lines].some((l) => l.includes("6.6.6.6")));

    await stopOneLosingNothing(port, b, a);
  });
});

withHaproxy.test("HAProxy backend with send-proxy-v2: spread, the client's address, drain by health check", async () => {
  const flags = ["--proxy-protocol", "--health", "/healthz", "--drain-delay", "1000"];
  await withInstances(flags, async (dir, a, b) => {
    const port = freePort();
    const conf = `${dir}/haproxy.cfg`;
    const server = (instance: Instance) =>
      `  server ${instance.name} 127.0.0.1:${instance.port} send-proxy-v2 check check-send-proxy ` +
      `inter 100ms fall 1 rise 1`;
    await Deno.writeTextFile(
      conf,
      `global
  pidfile ${dir}/haproxy.pid
defaults
  mode tcp
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  retries 3
  option redispatch
frontend web
  bind 127.0.0.1:${port}
  default_backend sockserve
backend sockserve
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
${server(a)}
${server(b)}
`,
    );
    const check = await run("haproxy", ["-c", "-f", conf]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    await using _haproxy = spawnBalancer("haproxy", ["-db", "-f", conf]);
    await until("HAProxy to answer", async () => (await get(port, "/id.txt")).status === 200);

    const served = new Set<string>();
    for (let i = 0; i < 6; i++) served.add((await get(port, "/id.txt")).body);
    assert.deepEqual([...served].sort(), ["A", "B"], "connections spread over both instances");

    // The PROXY v2 header carries curl's address; its forged X-Forwarded-For means nothing here.
    assert.match(await curlFromClient(port, "/id.txt?from=curl"), /^[AB]$/);
    const line = await clientLogLine([a, b], "/id.txt?from=curl");
    assert.match(line, new RegExp(`^${CLIENT_ADDRESS.replaceAll(".", "\\.")} - - `));

    await stopOneLosingNothing(port, b, a);
    // HAProxy polled /healthz every 100 ms throughout: answered before the access log.
    assert.ok(![...a.lines, ...b.lines].some((l) => l.includes("/healthz")), "health not logged");
  });
});
