/**
 * The config file: its validator (src/cli/config.ts) and its JSON Schema (sockserve.schema.json)
 * agree, key for key and on a table of samples (checked with Ajv); mistakes name their key.
 */
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { CONFIG_KEYS, ConfigError, readConfig, validateConfig } from "../../src/cli/config.ts";
import { resolveFrom } from "../../src/cli/startup.ts";

const schema = JSON.parse(
  await Deno.readTextFile(new URL("../../sockserve.schema.json", import.meta.url)),
);
const ajv = new Ajv({ allErrors: true, strict: true });
const schemaAccepts = ajv.compile(schema);

function codeAccepts(config: unknown): boolean {
  try {
    validateConfig(config, "sockserve.json");
    return true;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

Deno.test("config: the schema and the validator know the same keys", () => {
  assert.deepEqual(Object.keys(schema.properties).sort(), [...CONFIG_KEYS].sort());
  // Each key alone, with a value of its kind, is accepted by both; each is refused by both
  // under another name.
  const samples: Record<string, unknown> = {
    $schema: "./sockserve.schema.json",
    root: "site",
    port: 8080,
    host: "0.0.0.0",
    cleanUrls: true,
    spa: false,
    cors: true,
    watch: true,
    proxy: { "/api": "http://127.0.0.1:3000" },
    proxyTimeout: 5000,
    headers: { "*.css": { "Cache-Control": "max-age=60" } },
    redirects: [{ from: "/old", to: "/new", status: 308 }],
    rewrites: [{ from: "/app/*", to: "/index.html" }],
  };
  assert.deepEqual(Object.keys(samples).sort(), [...CONFIG_KEYS].sort());
  for (const [key, value] of Object.entries(samples)) {
    assert.ok(schemaAccepts({ [key]: value }), `schema refuses ${key}`);
    assert.ok(codeAccepts({ [key]: value }), `validator refuses ${key}`);
    assert.ok(!schemaAccepts({ [`${key}x`]: value }), `schema accepts ${key}x`);
    assert.ok(!codeAccepts({ [`${key}x`]: value }), `validator accepts ${key}x`);
  }
  // The rules' own keys, too.
  const rules = schema.properties;
  assert.deepEqual(Object.keys(rules.redirects.items.properties).sort(), ["from", "status", "to"]);
  assert.deepEqual(Object.keys(rules.rewrites.items.properties).sort(), ["from", "to"]);
  for (const key of ["redirects", "rewrites"]) {
    const extra = { [key]: [{ from: "/a", to: "/b", weight: 1 }] };
    assert.ok(!schemaAccepts(extra) && !codeAccepts(extra), `${key}[].weight`);
  }
});

Deno.test("config: the schema and the validator agree on valid and invalid samples", () => {
  const table: [unknown, boolean][] = [
    [{}, true],
    [[], false],
    ["{}", false],
    [{ port: 0 }, true],
    [{ port: 65535 }, true],
    [{ port: 65536 }, false],
    [{ port: -1 }, false],
    [{ port: 80.5 }, false],
    [{ port: "8000" }, false],
    [{ root: "" }, false],
    [{ host: "" }, false],
    [{ watch: "yes" }, false],
    [{ cors: 1 }, false],
    [{ proxyTimeout: 0 }, false],
    [{ proxyTimeout: 3_600_000 }, true],
    [{ proxyTimeout: 3_600_001 }, false],
    [{ proxy: { "/api": "http://localhost:3000/v1/" } }, true],
    [{ proxy: { "/": "http://[::1]:9000" } }, true],
    [{ proxy: { "api": "http://localhost:3000" } }, false],
    [{ proxy: { "/api?x": "http://localhost:3000" } }, false],
    [{ proxy: { "/api": "https://localhost:3000" } }, false],
    [{ proxy: { "/api": "http://localhost:3000/?q=1" } }, false],
    [{ proxy: { "/api": "http://user:pw@localhost:3000" } }, false],
    [{ proxy: { "/api": 3000 } }, false],
    [{ proxy: [] }, false],
    [{ headers: { "/assets/**": { "Cache-Control": "max-age=31536000, immutable" } } }, true],
    [{ headers: { "*.js": { "X-A": "", "X-B": "caf\u00e9" } } }, true],
    [{ headers: { "*.js": { "Bad Name": "x" } } }, false],
    [{ headers: { "*.js": { "X-A": "line\nbreak" } } }, false],
    [{ headers: { "*.js": { "X-A": "\u0001" } } }, false],
    [{ headers: { "*.js": { "X-A": "\u20ac" } } }, false],
    [{ headers: { "*.js": { "Content-Length": "3" } } }, false],
    [{ headers: { "*.js": { "TRANSFER-encoding": "chunked" } } }, false],
    [{ headers: { "*.js": { "X-A": 1 } } }, false],
    [{ headers: { "*.js": "x" } }, false],
    [{ redirects: [{ from: "/a/:id", to: "https://example.com/b/:id" }] }, true],
    [{ redirects: [{ from: "/a", to: "/b", status: 302 }] }, true],
    [{ redirects: [{ from: "/a", to: "/b", status: 200 }] }, false],
    [{ redirects: [{ from: "/a", to: "/b", status: "301" }] }, false],
    [{ redirects: [{ from: "a", to: "/b" }] }, false],
    [{ redirects: [{ from: "/a", to: "b" }] }, false],
    [{ redirects: [{ from: "/a", to: "" }] }, false],
    [{ redirects: [{ from: "/a" }] }, false],
    [{ redirects: [{ to: "/a" }] }, false],
    [{ redirects: {} }, false],
    [{ rewrites: [{ from: "/docs/*", to: "/docs/index.html" }] }, true],
    [{ rewrites: [{ from: "/a", to: "http://example.com/" }] }, false],
    [{ rewrites: [{ from: "/a", to: "/b", status: 301 }] }, false],
    [{ rewrites: ["/a"] }, false],
  ];
  for (const [config, valid] of table) {
    const label = JSON.stringify(config);
    assert.equal(schemaAccepts(config), valid, `schema on ${label}`);
    assert.equal(codeAccepts(config), valid, `validator on ${label}`);
  }
});

Deno.test("config: what only the code can check (a pattern's syntax, a URL's port) it refuses", () => {
  // A JSON Schema pattern cannot parse these; the validator does, and the schema lets them by.
  const table: unknown[] = [
    { redirects: [{ from: "/a/*/b", to: "/c" }] },
    { redirects: [{ from: "/a*", to: "/c" }] },
    { redirects: [{ from: "/:1", to: "/c" }] },
    { redirects: [{ from: "/:a/:a", to: "/c" }] },
    { redirects: [{ from: "/a", to: "/b/:id" }] },
    { rewrites: [{ from: "/a", to: "/b/*" }] },
    { proxy: { "/api": "http://localhost:99999" } },
  ];
  for (const config of table) {
    assert.ok(schemaAccepts(config), JSON.stringify(config));
    assert.ok(!codeAccepts(config), JSON.stringify(config));
  }
});

Deno.test("config: a mistake is one line naming the file and the key", () => {
  const table: [unknown, RegExp][] = [
    [{ prot: 1 }, /^sockserve\.json: unknown key "prot" \(known: root, port, /],
    [
      { port: "8000" },
      /^sockserve\.json: "port" must be an integer from 0 to 65535, not string "8000"$/,
    ],
    [{ watch: 1 }, /"watch" must be true or false, not number 1/],
    [{ proxy: { "/api": "ftp://x" } }, /"proxy\.\/api" "ftp:\/\/x" must be an http:\/\/ URL/],
    [{ proxy: { "api": "http://x" } }, /"proxy\.api" prefix "api" must be a path/],
    [
      { headers: { "*.js": { "Bad Name": "x" } } },
      /"headers\.\*\.js\.Bad Name" is not a valid header field/,
    ],
    [{ redirects: [{ from: "/a", to: "/b" }, { from: "/c" }] }, /"redirects\[1\]\.to" is missing/],
    [
      { redirects: [{ from: "/a", to: "/b", status: 200 }] },
      /"redirects\[0\]\.status" must be an integer from 300/,
    ],
    [
      { redirects: [{ from: "/a", to: "/b", status: 304 }] },
      /"redirects\[0\]\.status" must be one of 301, 302, 303, 307, 308/,
    ],
    [
      { redirects: [{ from: "/a", to: "/b/:id" }] },
      /"redirects\[0\]\.to" uses ":id", which "from" lacks/,
    ],
    [
      { rewrites: [{ from: "/a*", to: "/b" }] },
      /"rewrites\[0\]\.from" "\*" must be a segment of its own/,
    ],
    [{ rewrites: [{ from: "/a", to: "/b", x: 1 }] }, /"rewrites\[0\]\.x" is not a known key/],
    [[1], /^sockserve\.json: must hold a JSON object$/],
  ];
  for (const [config, message] of table) {
    assert.throws(() => validateConfig(config, "sockserve.json"), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("config: read from a file, root relative to the file's directory; bad JSON named", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-config-" });
  try {
    const path = `${dir}/sockserve.json`;
    await Deno.writeTextFile(path, JSON.stringify({ root: "public", port: 9000 }));
    assert.deepEqual(readConfig(path, true, resolveFrom), { root: `${dir}/public`, port: 9000 });
    assert.equal(readConfig(`${dir}/absent.json`, false, resolveFrom), null);
    assert.throws(() => readConfig(`${dir}/absent.json`, true, resolveFrom), /does not exist/);
    await Deno.writeTextFile(path, "{ port: 1 }");
    assert.throws(() => readConfig(path, true, resolveFrom), /sockserve\.json: not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("config: the repository's example validates against both", async () => {
  const example = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/sockserve.example.json", import.meta.url)),
  );
  assert.ok(schemaAccepts(example), JSON.stringify(schemaAccepts.errors));
  assert.ok(codeAccepts(example));
});
