/**
 * The development server from the command line, as a person starts it: `deno task serve` from a
 * subdirectory, the config file of the start directory, the port fallback and its refusal, the
 * Local/Network lines, `--proxy`, and the command installed with `deno install -g`.
 */
import assert from "node:assert/strict";
import { type CliProcess, serveCommand, startCli } from "../cli_helpers.ts";
import { deadline } from "../examples_helpers.ts";
import { startBackend } from "../dev_helpers.ts";
import { reachableUrls } from "../../src/cli/startup.ts";

const REPO = new URL("../../", import.meta.url);
const REPO_DIR = decodeURIComponent(REPO.pathname).replace(/\/$/, "");
/** Absolute: a relative ROOT would be read from an INIT_CWD the test runner may have. */
const WWW = `${REPO_DIR}/www`;

/** The URL of the startup line, after any port-fallback lines (returned too). */
async function startupUrl(cli: CliProcess): Promise<{ url: string; before: string[] }> {
  const before: string[] = [];
  for (;;) {
    const line = await deadline(cli.nextLine(), "the startup line");
    if (line === null) assert.fail(`no startup line; stderr: ${await cli.stderr()}`);
    const match = /^Listening on (http:\/\/\S+?)\/? /.exec(line);
    if (match) return { url: match[1], before };
    before.push(line);
  }
}

/** This process's environment without `name`. */
function inheritedExcept(name: string): Record<string, string> {
  const env = Deno.env.toObject();
  delete env[name];
  return env;
}

async function text(url: string): Promise<[number, string]> {
  return await deadline(
    fetch(url).then(async (response) => [response.status, await response.text()]),
    `GET ${url}`,
  );
}

async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-devcli-" });
  for (const [path, content] of Object.entries(files)) {
    await Deno.mkdir(`${dir}/${path}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(`${dir}/${path}`, content);
  }
  return dir;
}

Deno.test("cd www && deno task serve . serves www/, not the repository", async () => {
  await using cli = await startCli([".", "--port", "0", "--log", "off"], {
    command: [Deno.execPath(), "task", "serve"],
    cwd: new URL("www/", REPO),
    // deno task (like npm) keeps an INIT_CWD it inherits: `deno task test` sets one.
    clearEnv: true,
    env: inheritedExcept("INIT_CWD"),
  });
  const { url } = await startupUrl(cli);
  assert.equal((await text(`${url}/app.js`))[0], 200);
  assert.equal((await text(`${url}/deno.json`))[0], 404);
  // deno task passes SIGTERM on to the server (a SIGKILL would leave the server running).
  cli.child.kill("SIGTERM");
  assert.equal((await cli.child.status).code, 0);
});

Deno.test("sockserve.json of the start directory is read; flags override it; its mistakes exit 2", async () => {
  const dir = await tempDir({
    "sockserve.json": JSON.stringify({
      $schema: "./sockserve.schema.json",
      root: "site",
      host: "127.0.0.2",
      cleanUrls: true,
      headers: { "/*": { "X-Page": "yes" } },
    }),
    "site/about.html": "<p>about</p>",
  });
  try {
    {
      await using cli = await startCli(["--port", "0", "--host", "127.0.0.1", "--log", "off"], {
        env: { INIT_CWD: dir },
      });
      const { url } = await startupUrl(cli);
      assert.match(url, /^http:\/\/127\.0\.0\.1:/, "--host overrides the file's host");
      const response = await fetch(`${url}/about`);
      assert.equal(await response.text(), "<p>about</p>");
      assert.equal(response.headers.get("x-page"), "yes");
    }
    await Deno.writeTextFile(`${dir}/sockserve.json`, JSON.stringify({ cleanUrl: true }));
    const failed = await new Deno.Command(Deno.execPath(), {
      args: [...await serveCommand(), "--port", "0"],
      cwd: REPO,
      env: { INIT_CWD: dir },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(failed.code, 2);
    const stderr = new TextDecoder().decode(failed.stderr);
    assert.match(stderr, /^error: .*sockserve\.json: unknown key "cleanUrl" \(known: /);
    assert.equal(stderr.trim().split("\n").length, 1);
    // --no-config ignores it.
    await using cli = await startCli(
      [`${dir}/site`, "--port", "0", "--no-config", "--log", "off"],
      {
        env: { INIT_CWD: dir },
      },
    );
    assert.equal((await text(`${(await startupUrl(cli)).url}/about`))[0], 404);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without --port a taken 8000 moves to the next free port and says so", async () => {
  let holder: Deno.Listener | null = null;
  try {
    holder = Deno.listen({ hostname: "127.0.0.1", port: 8000 });
  } catch (error) {
    // Taken already, by someone else: just as good for this test.
    assert.ok(error instanceof Deno.errors.AddrInUse, String(error));
  }
  try {
    await using cli = await startCli([WWW, "--log", "off"]);
    const { url, before } = await startupUrl(cli);
    const port = Number(new URL(url).port);
    assert.ok(port > 8000 && port <= 8010, url);
    assert.equal(before[0], "Port 8000 is in use, trying 8001");
    assert.equal(before.length, port - 8000);
    assert.equal((await text(`${url}/app.js`))[0], 200);
  } finally {
    holder?.close();
  }
});

Deno.test("with --port, a taken port is one line on stderr and exit 1", async () => {
  using holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = holder.addr.port;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...await serveCommand(), WWW, "--port", String(port)],
    cwd: REPO,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(stderr, `error: cannot listen on 127.0.0.1:${port}: Address already in use\n`);
});

Deno.test("binding 0.0.0.0 prints Local: and Network: URLs", async () => {
  await using cli = await startCli([WWW, "--host", "0.0.0.0", "--port", "0"]);
  const { url } = await startupUrl(cli);
  const port = Number(new URL(url).port);
  assert.equal(
    await deadline(cli.nextLine(), "the Local line"),
    `  Local:   http://localhost:${port}/`,
  );
  // A request's access-log line comes after the last Network line, whatever their number.
  assert.equal((await text(`http://localhost:${port}/app.js`))[0], 200);
  for (;;) {
    const line = (await deadline(cli.nextLine(), "a Network line or the access log"))!;
    if (line.includes('"GET /app.js HTTP/1.1" 200')) break;
    const match = /^ {2}Network: http:\/\/([\d.]+):(\d+)\/$/.exec(line);
    assert.ok(match, line);
    assert.equal(Number(match[2]), port);
    assert.ok(!match[1].startsWith("127."), "loopback is the Local line's");
  }
});

Deno.test("reachableUrls: one Network line per usable address, IPv6 only when :: is bound", () => {
  const nic = (address: string, family: "IPv4" | "IPv6") =>
    ({
      family,
      name: "eth0",
      address,
      netmask: "",
      scopeid: null,
      cidr: "",
      mac: "",
    }) as Deno.NetworkInterfaceInfo;
  const interfaces = [
    nic("127.0.0.1", "IPv4"),
    nic("192.168.1.5", "IPv4"),
    nic("::1", "IPv6"),
    nic("fe80::1", "IPv6"),
    nic("2001:db8::5", "IPv6"),
    nic("192.168.1.5", "IPv4"),
  ];
  assert.deepEqual(reachableUrls("http", "0.0.0.0", 8000, interfaces), [
    "  Local:   http://localhost:8000/",
    "  Network: http://192.168.1.5:8000/",
  ]);
  assert.deepEqual(reachableUrls("https", "::", 8443, interfaces), [
    "  Local:   https://localhost:8443/",
    "  Network: https://192.168.1.5:8443/",
    "  Network: https://[2001:db8::5]:8443/",
  ]);
});

Deno.test("--proxy from the command line forwards to the backend", async () => {
  await using backend = await startBackend();
  await using cli = await startCli([
    WWW,
    "--port",
    "0",
    "--log",
    "off",
    "--proxy",
    `/api=http://127.0.0.1:${backend.port}`,
  ]);
  const { url } = await startupUrl(cli);
  const [status, body] = await text(`${url}/api/echo?from=cli`);
  assert.equal(status, 200);
  assert.equal(JSON.parse(body).target, "/api/echo?from=cli");
});

Deno.test("deno install -g: the installed sockserve command serves a directory", async () => {
  const root = await Deno.makeTempDir({ prefix: "sockserve-install-" });
  const site = await tempDir({ "hello.txt": "installed" });
  try {
    // The flags the README gives, read from the serve task so they cannot drift apart.
    const task = await serveCommand();
    const flags = task.filter((word) => word.startsWith("--"));
    const install = await new Deno.Command(Deno.execPath(), {
      args: [
        "install",
        "-g",
        "-f",
        "--root",
        root,
        "-n",
        "sockserve",
        // The import map (npm packages by name) goes with the command.
        "--config",
        `${REPO_DIR}/deno.json`,
        ...flags,
        `${REPO_DIR}/src/cli/main.ts`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
    await using cli = await startCli([site, "--port", "0", "--log", "off"], {
      command: [`${root}/bin/sockserve`],
      cwd: site,
      env: { PATH: `${Deno.execPath().replace(/\/[^/]*$/, "")}:${Deno.env.get("PATH") ?? ""}` },
    });
    const { url } = await startupUrl(cli);
    assert.deepEqual(await text(`${url}/hello.txt`), [200, "installed"]);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(site, { recursive: true });
  }
});
