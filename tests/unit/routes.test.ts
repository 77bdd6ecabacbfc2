/**
 * The config file's path patterns, globs and proxy prefixes (src/cli/routes.ts,
 * src/cli/proxy/backend.ts) as tables.
 */
import assert from "node:assert/strict";
import {
  checkTarget,
  compileGlob,
  compilePattern,
  matchPattern,
  substitute,
  underPrefix,
} from "../../src/cli/routes.ts";
import { backendTarget, parseBackend, routeFor } from "../../src/cli/proxy/backend.ts";

Deno.test("patterns: :name takes one segment, a last * the rest, literals match exactly", () => {
  const table: [string, string, Record<string, string> | null][] = [
    ["/a/:id", "/a/42", { id: "42" }],
    ["/a/:id", "/a/42/x", null],
    ["/a/:id", "/a/", null],
    ["/a/:x/:y", "/a/1/2", { x: "1", y: "2" }],
    ["/docs/*", "/docs/a/b.html", { "*": "a/b.html" }],
    ["/docs/*", "/docs", { "*": "" }],
    ["/docs/*", "/docs/", { "*": "" }],
    ["/docs/*", "/docsx", null],
    ["/*", "/anything/at/all", { "*": "anything/at/all" }],
    ["/a.b", "/a.b", {}],
    ["/a.b", "/aXb", null],
    ["/%C3%A9", "/%C3%A9", {}],
  ];
  for (const [pattern, path, expected] of table) {
    const captures = matchPattern(compilePattern(pattern), path);
    assert.deepEqual(
      captures === null ? null : Object.fromEntries(captures),
      expected,
      `${pattern} ${path}`,
    );
  }
});

Deno.test("patterns: substitution fills :name and *, and a target may only use what from captures", () => {
  const captures = matchPattern(compilePattern("/u/:id/*"), "/u/7/a/b")!;
  assert.equal(substitute("/users/:id/files/*", captures), "/users/7/files/a/b");
  assert.equal(substitute("https://host:8443/u/:id", captures), "https://host:8443/u/7");
  checkTarget(compilePattern("/u/:id"), "https://host:8443/x/:id");
  assert.throws(() => checkTarget(compilePattern("/u"), "/x/:id"), /":id", which "from" lacks/);
  assert.throws(() => checkTarget(compilePattern("/u"), "/x/*"), /"\*", which "from" lacks/);
  for (const bad of ["a", "/a/*/b", "/a*", "/:", "/:1x", "/:a/:a"]) {
    assert.throws(() => compilePattern(bad), Error, bad);
  }
});

Deno.test("globs: ** crosses segments, * and ? do not, a glob without / matches the last segment", () => {
  const table: [string, string, boolean][] = [
    ["/assets/**", "/assets/a/b.js", true],
    ["/assets/**", "/other/a.js", false],
    ["/assets/*", "/assets/a.js", true],
    ["/assets/*", "/assets/a/b.js", false],
    ["*.css", "/x/y/site.css", true],
    ["*.css", "/site.css.map", false],
    ["/?.txt", "/a.txt", true],
    ["/?.txt", "/ab.txt", false],
    ["/a+b(c)", "/a+b(c)", true],
  ];
  for (const [glob, path, expected] of table) {
    assert.equal(compileGlob(glob).test(path), expected, `${glob} ${path}`);
  }
});

Deno.test("proxy prefixes: whole segments, the longest wins, and targets map paths like nginx", () => {
  assert.ok(underPrefix("/api", "/api"));
  assert.ok(underPrefix("/api/x", "/api"));
  assert.ok(!underPrefix("/apis", "/api"));
  assert.ok(underPrefix("/api/x", "/api/"));
  assert.ok(!underPrefix("/api", "/api/"));
  const routes = [{ prefix: "/api", target: "a" }, { prefix: "/api/v2", target: "b" }];
  assert.equal(routeFor(routes, "/api/v2/x")?.target, "b");
  assert.equal(routeFor(routes, "/api/v1")?.target, "a");
  assert.equal(routeFor(routes, "/other"), null);

  const table: [string, string, string, string][] = [
    ["http://h:1", "/api", "/api/x?q=1", "/api/x?q=1"],
    ["http://h:1/", "/api", "/api/x?q=1", "/x?q=1"],
    ["http://h:1/", "/api", "/api?q=1", "/?q=1"],
    ["http://h:1/v1", "/api", "/api/x", "/v1/x"],
    ["http://h:1/v1/", "/api", "/api/x", "/v1/x"],
    ["http://h:1/v1", "/api/", "/api/x", "/v1/x"],
    ["http://h:1/v1", "/api", "/api", "/v1"],
  ];
  for (const [target, prefix, path, expected] of table) {
    assert.equal(backendTarget(parseBackend(target), prefix, path), expected, `${target} ${path}`);
  }
  assert.deepEqual(parseBackend("http://[::1]:9000"), {
    hostname: "::1",
    port: 9000,
    host: "[::1]:9000",
    path: null,
  });
  assert.equal(parseBackend("http://localhost").port, 80);
});
