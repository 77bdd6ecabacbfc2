/**
 * The command line: flag parsing as a table, then the real `serve` task in a subprocess (the
 * command and permissions read from deno.json, port 0, the port read from the startup line).
 */
import assert from "node:assert/strict";
import { HELP, parseCli, UsageError } from "../../src/cli/args.ts";
import { run } from "../helpers.ts";
import { serveCommand, startCli } from "../cli_helpers.ts";
import { needs } from "../tools.ts";

const withCurl = needs("curl");
const withCurlAndOpenssl = needs("curl", "openssl");
const withSocat = needs("socat");

Deno.test("parseCli: defaults and every flag", () => {
  const defaults = parseCli([])!;
  assert.deepEqual(defaults, {
    root: "www",
    listeners: [{
      kind: "tcp",
      hostname: "127.0.0.1",
      port: 8000,
      certFile: undefined,
      keyFile: undefined,
      fallback: true,
    }],
    udpPort: null,
    workers: 1,
    log: "common",
    files: {
      cors: false,
      dirListing: true,
      dotfiles: "ignore",
      followSymlinks: false,
      spa: false,
      cacheControl: undefined,
      headers: [],
      compress: true,
      cleanUrls: false,
    },
    deploy: {},
    dev: {
      watch: false,
      proxy: [],
      proxyTimeout: 30_000,
      headers: [],
      redirects: [],
      rewrites: [],
    },
  });
  const all = parseCli([
    "site",
    "--port=0",
    "--host",
    "::",
    "--unix",
    "/tmp/s.sock",
    "--udp",
    "8001",
    "--cert",
    "c.pem",
    "--key",
    "k.pem",
    "--workers",
    "4",
    "--cors",
    "--no-dir-listing",
    "--dotfiles",
    "deny",
    "--follow-symlinks",
    "--spa",
    "--cache-control",
    "no-cache",
    "--header",
    "X-A: 1",
    "--header",
    "X-B:two words",
    "--no-compress",
    "--log",
    "json",
    "--trust-proxy",
    "10.0.0.0/8,::1",
    "--trust-proxy=192.0.2.7",
    "--forwarded-headers",
    "forwarded",
    "--health",
    "/healthz",
    "--drain-delay",
    "250",
    "--watch",
    "--clean-urls",
    "--proxy",
    "/api=http://127.0.0.1:3000",
    "--proxy=/ws=http://[::1]:9000/socket",
    "--proxy-timeout",
    "1500",
    "--no-config",
  ])!;
  assert.deepEqual(all, {
    root: "site",
    listeners: [
      {
        kind: "tcp",
        hostname: "::",
        port: 0,
        certFile: "c.pem",
        keyFile: "k.pem",
        fallback: false,
      },
      { kind: "unix", path: "/tmp/s.sock" },
    ],
    udpPort: 8001,
    workers: 4,
    log: "json",
    files: {
      cors: true,
      dirListing: false,
      dotfiles: "deny",
      followSymlinks: true,
      spa: true,
      cacheControl: "no-cache",
      headers: [["X-A", "1"], ["X-B", "two words"]],
      compress: false,
      cleanUrls: true,
    },
    deploy: {
      trustProxy: { trusted: ["10.0.0.0/8", "::1", "192.0.2.7"], headers: "forwarded" },
      health: "/healthz",
      drainDelay: 250,
    },
    dev: {
      watch: true,
      proxy: [
        { prefix: "/api", target: "http://127.0.0.1:3000" },
        { prefix: "/ws", target: "http://[::1]:9000/socket" },
      ],
      proxyTimeout: 1500,
      headers: [],
      redirects: [],
      rewrites: [],
    },
  });
  // --proxy-protocol (not with --cert): from --trust-proxy peers when given, else from any.
  assert.deepEqual(parseCli(["--proxy-protocol"])!.deploy, { proxyProtocol: true });
  assert.deepEqual(parseCli(["--proxy-protocol", "--trust-proxy", "10.0.0.0/8"])!.deploy, {
    proxyProtocol: { trusted: ["10.0.0.0/8"] },
    trustProxy: { trusted: ["10.0.0.0/8"], headers: "x-forwarded" },
  });
  assert.equal(parseCli(["--help"]), null);
  assert.equal(parseCli(["-h"]), null);
});

Deno.test("parseCli: mistakes are one-line usage errors", () => {
  const table: [string[], RegExp][] = [
    [["--bogus"], /--bogus/],
    [["--port"], /--port/],
    [["--port", "80x"], /--port must be an integer/],
    [["--port", "65536"], /--port must be an integer from 0 to 65535/],
    [["--port", "-1"], /--port/],
    [["--udp", "x"], /--udp/],
    [["--workers", "0"], /--workers/],
    [["--log", "xml"], /--log must be one of common, combined, json, off/],
    [["--dotfiles", "show"], /--dotfiles must be allow, deny or ignore/],
    [["--cert", "c.pem"], /--cert and --key go together/],
    [["--header", "no colon"], /--header must look like 'Name: value'/],
    [["--header", "Bad Name: x"], /--header/],
    [["a", "b"], /one ROOT/],
    [["--trust-proxy", "10.0.0.0/33"], /--trust-proxy: "10\.0\.0\.0\/33" is not an IP/],
    [["--trust-proxy", "localhost"], /--trust-proxy/],
    [["--forwarded-headers", "x-real-ip"], /--forwarded-headers must be x-forwarded or forwarded/],
    [["--health", "healthz"], /--health must be a path starting with "\/"/],
    [["--drain-delay", "soon"], /--drain-delay must be an integer/],
    [["--proxy-protocol", "--cert", "c", "--key", "k"], /--proxy-protocol cannot go with --cert/],
    [["--proxy", "/api"], /--proxy must look like PREFIX=URL/],
    [["--proxy", "api=http://127.0.0.1:3000"], /--proxy: prefix "api" must be a path/],
    [
      ["--proxy", "/api=https://example.com"],
      /--proxy: "https:\/\/example\.com" must be an http:\/\/ URL/,
    ],
    [["--proxy", "/api=http://127.0.0.1:3000/?q=1"], /--proxy: .* no query/],
    [["--proxy-timeout", "0"], /--proxy-timeout must be an integer from 1/],
    [["--proxy-timeout", "soon"], /--proxy-timeout/],
    [["--watch=yes"], /--watch/],
    [["--config", "c.json", "--no-config"], /--config and --no-config contradict/],
  ];
  for (const [args, message] of table) {
    assert.throws(() => parseCli(args), (error: Error) => {
      assert.ok(error instanceof UsageError, args.join(" "));
      assert.match(error.message, message, args.join(" "));
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    });
  }
});

/** Runs the task to completion (for the cases that exit at once). */
async function runCli(args: string[]) {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [...await serveCommand(), ...args],
    cwd: new URL("../..", import.meta.url),
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

async function tempRoot(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-cli-" });
  await Deno.writeTextFile(`${dir}/hello.txt`, "hello from the cli");
  return dir;
}

Deno.test("--help lists every flag with its default and exits 0", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.equal(stdout.trim(), HELP.trim());
  const flags = [
    "--port",
    "--host",
    "--unix",
    "--udp",
    "--cert",
    "--key",
    "--workers",
    "--cors",
    "--no-dir-listing",
    "--dotfiles",
    "--log",
    "--cache-control",
    "--header",
    "--spa",
    "--follow-symlinks",
    "--trust-proxy",
    "--forwarded-headers",
    "--proxy-protocol",
    "--health",
    "--drain-delay",
    "--watch",
    "--clean-urls",
    "--proxy",
    "--proxy-timeout",
    "--config",
    "--no-config",
  ];
  for (const flag of flags) assert.ok(stdout.includes(`  ${flag}`), flag);
  for (
    const fact of ["default: 8000", "default: 127.0.0.1", "default: ignore", "default: common"]
  ) {
    assert.ok(stdout.includes(fact), fact);
  }
});

withCurl.test("startup line, access log on stdout, SIGTERM and SIGINT exit 0", async () => {
  const root = await tempRoot();
  try {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      await using cli = await startCli([root, "--port", "0"]);
      const line = await cli.nextLine();
      const match = /^Listening on http:\/\/127\.0\.0\.1:(\d+)\/ \(root: (.*)\)$/.exec(line ?? "");
      assert.ok(match, `startup line: ${line}`);
      assert.notEqual(match[1], "0", "the real port is shown");
      assert.equal(match[2], root);
      const curl = await run("curl", ["-sS", `http://127.0.0.1:${match[1]}/hello.txt`]);
      assert.equal(curl.stdout, "hello from the cli");
      assert.match(
        (await cli.nextLine())!,
        /^127\.0\.0\.1 - - \[.+\] "GET \/hello\.txt HTTP\/1\.1" 200 18$/,
      );
      cli.child.kill(signal);
      assert.equal((await cli.child.status).code, 0, signal);
      assert.equal(await cli.stderr(), "");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

withCurl.test("--host ::1: the startup line puts the IPv6 address in brackets", async () => {
  const root = await tempRoot();
  try {
    await using cli = await startCli([root, "--port", "0", "--host", "::1"]);
    const port = /^Listening on http:\/\/\[::1\]:(\d+)\/ \(root: /.exec((await cli.nextLine())!)
      ?.[1];
    assert.ok(port);
    const curl = await run("curl", ["-sS", "-g", `http://[::1]:${port}/hello.txt`]);
    assert.equal(curl.stdout, "hello from the cli");
    assert.match((await cli.nextLine())!, /^\[::1\] - - /);
    cli.child.kill("SIGTERM");
    assert.equal((await cli.child.status).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

withCurl.test("--log json and --log off", async () => {
  const root = await tempRoot();
  try {
    for (const format of ["json", "off"]) {
      await using cli = await startCli([root, "--port", "0", "--log", format]);
      const port = /:(\d+)\//.exec((await cli.nextLine())!)![1];
      await run("curl", ["-sS", "-A", "agent/1", `http://127.0.0.1:${port}/nope`]);
      await run("curl", ["-sS", `http://127.0.0.1:${port}/hello.txt`]);
      cli.child.kill("SIGTERM");
      const rest: string[] = [];
      for (let line = await cli.nextLine(); line !== null; line = await cli.nextLine()) {
        rest.push(line);
      }
      if (format === "off") {
        assert.deepEqual(rest, []);
      } else {
        const entries = rest.map((line) => JSON.parse(line));
        assert.deepEqual(entries.map((e) => [e.target, e.status, e.user_agent]), [
          ["/nope", 404, "agent/1"],
          ["/hello.txt", 200, "curl/" + entries[1].user_agent.slice(5)],
        ]);
      }
      assert.equal((await cli.child.status).code, 0);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  withCurl.test(`--unix adds a listener with its own startup line; ${signal} removes the file`, async () => {
    const root = await tempRoot();
    const socket = `${root}.sock`;
    try {
      await using cli = await startCli([root, "--port", "0", "--unix", socket]);
      const lines = [await cli.nextLine(), await cli.nextLine()];
      assert.match(lines[0]!, /^Listening on http:\/\/127\.0\.0\.1:\d+\/ \(root: /);
      assert.equal(
        lines[1],
        `Listening on http+unix://${encodeURIComponent(socket)}/ (root: ${root})`,
      );
      const curl = await run("curl", [
        "-sS",
        "--unix-socket",
        socket,
        "http://localhost/hello.txt",
      ]);
      assert.equal(curl.stdout, "hello from the cli");
      cli.child.kill(signal);
      assert.equal((await cli.child.status).code, 0);
      await assert.rejects(Deno.lstat(socket), Deno.errors.NotFound, "socket file removed");
    } finally {
      await Deno.remove(root, { recursive: true });
      await Deno.remove(socket).catch(() => {});
    }
  });
}

withCurlAndOpenssl.test("--cert and --key serve HTTPS", async () => {
  const root = await tempRoot();
  const certs = await Deno.makeTempDir({ prefix: "sockserve-certs-" });
  const [key, cert] = [`${certs}/key.pem`, `${certs}/cert.pem`];
  try {
    const openssl = await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    assert.equal(openssl.code, 0, openssl.stderr);
    await using cli = await startCli([root, "--port", "0", "--cert", cert, "--key", key]);
    const port = /^Listening on https:\/\/127\.0\.0\.1:(\d+)\/ /.exec((await cli.nextLine())!)?.[1];
    assert.ok(port);
    const curl = await run("curl", [
      "-sS",
      "--cacert",
      cert,
      `https://localhost:${port}/hello.txt`,
    ]);
    assert.equal(curl.stdout, "hello from the cli", curl.stderr);
    cli.child.kill("SIGTERM");
    assert.equal((await cli.child.status).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(certs, { recursive: true });
  }
});

Deno.test("mistakes print one line on stderr and exit non-zero", async () => {
  const root = await tempRoot();
  using busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const table: [string[], number, RegExp][] = [
      [["--bogus"], 2, /^error: .*--bogus.* \(see --help\)$/],
      [["--port", "nope"], 2, /^error: --port must be an integer/],
      [["--log", "xml"], 2, /^error: --log must be one of/],
      [[`${root}/missing`], 1, /^error: root ".*missing": does not exist$/],
      [[`${root}/hello.txt`], 1, /^error: root ".*hello.txt": root is not a directory/],
      [[root, "--port", String(busy.addr.port)], 1, /^error: cannot listen on 127\.0\.0\.1:\d+: /],
      [
        [root, "--cert", `${root}/none.pem`, "--key", `${root}/none.pem`, "--port", "0"],
        1,
        /cannot read --cert/,
      ],
      [
        [root, "--workers", "2", "--port", String(busy.addr.port)],
        1,
        /^error: cannot listen on 127\.0\.0\.1:\d+: /,
      ],
    ];
    for (const [args, code, message] of table) {
      const result = await runCli(args);
      assert.equal(result.code, code, args.join(" "));
      const stderr = result.stderr.trimEnd();
      assert.ok(!stderr.includes("\n"), `one line: ${stderr}`);
      assert.match(stderr, message, args.join(" "));
      assert.equal(result.stdout, "");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

withCurl.test("--workers 2: one startup line, files served, SIGTERM exits 0", async () => {
  const root = await tempRoot();
  try {
    await using cli = await startCli([root, "--port", "0", "--workers", "2", "--log", "off"]);
    const line = (await cli.nextLine())!;
    const port = /^Listening on http:\/\/127\.0\.0\.1:(\d+)\/ \(root: .*, 2 workers\)$/.exec(line)
      ?.[1];
    assert.ok(port, line);
    for (let i = 0; i < 4; i++) {
      const curl = await run("curl", ["-sS", `http://127.0.0.1:${port}/hello.txt`]);
      assert.equal(curl.stdout, "hello from the cli", curl.stderr);
    }
    cli.child.kill("SIGTERM");
    assert.equal((await cli.child.status).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

withCurl.test("--workers 2 with the access log: one whole line per request", async () => {
  const root = await tempRoot();
  try {
    await using cli = await startCli([root, "--port", "0", "--workers", "2"]);
    const port = /:(\d+)\//.exec((await cli.nextLine())!)![1];
    // Concurrent requests, so that both workers gather lines at the same time.
    const count = 200;
    const urls = Array.from({ length: count }, (_, i) => `http://127.0.0.1:${port}/hello.txt?${i}`);
    const curl = await run("curl", ["-sS", "--parallel", "--parallel-max", "32", ...urls]);
    assert.equal(curl.stdout, "hello from the cli".repeat(count), curl.stderr);
    cli.child.kill("SIGTERM");
    const seen = new Set<string>();
    for (let line = await cli.nextLine(); line !== null; line = await cli.nextLine()) {
      const match = /^127\.0\.0\.1 - - \[.+\] "GET \/hello\.txt\?(\d+) HTTP\/1\.1" 200 18$/.exec(
        line,
      );
      assert.ok(match, `a whole access log line: ${JSON.stringify(line)}`);
      seen.add(match[1]);
    }
    assert.equal(seen.size, count, "one line per request");
    assert.equal((await cli.child.status).code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

withSocat.test("--udp: HTTP over UDP answered from the same root (socat)", async () => {
  const root = await tempRoot();
  try {
    await using cli = await startCli([root, "--port", "0", "--udp", "0", "--log", "off"]);
    assert.match((await cli.nextLine())!, /^Listening on http:/);
    const line = (await cli.nextLine())!;
    const port = /^Listening on udp:\/\/127\.0\.0\.1:(\d+)\/ \(HTTP over UDP, root: /.exec(line)
      ?.[1];
    assert.ok(port, line);
    const socat = new Deno.Command("socat", {
      args: ["-t", "5", "-", `UDP:127.0.0.1:${port}`],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = socat.stdin.getWriter();
    await writer.write(new TextEncoder().encode("GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"));
    const reader = socat.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let reply = "";
    while (!reply.endsWith("hello from the cli")) {
      const { done, value } = await reader.read();
      if (done) break;
      reply += value;
    }
    socat.kill("SIGTERM");
    await socat.status;
    await writer.close().catch(() => {});
    await reader.cancel().catch(() => {});
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(reply.endsWith("\r\n\r\nhello from the cli"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
