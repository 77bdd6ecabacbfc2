/**
 * Safe path resolution: the URL decoder's rules, and a traversal suite over real sockets in which
 * every request tries to reach a secret file placed next to the root.
 */
import assert from "node:assert/strict";
import { candidatePath, decodeUrlPath, openRoot } from "../../src/static/path.ts";
import { site } from "../static_fixture.ts";

Deno.test("decodeUrlPath: decodes once per segment and normalises dot segments", () => {
  const table: [string, ReturnType<typeof decodeUrlPath>][] = [
    ["/", { segments: [], trailingSlash: true }],
    ["/a/b.txt", { segments: ["a", "b.txt"], trailingSlash: false }],
    ["/a//b/", { segments: ["a", "b"], trailingSlash: true }],
    ["/a/./b", { segments: ["a", "b"], trailingSlash: false }],
    ["/a/../b", { segments: ["b"], trailingSlash: false }],
    ["/caf%C3%A9%20au%20lait", { segments: ["café au lait"], trailingSlash: false }],
    ["/%252e%252e", { segments: ["%2e%2e"], trailingSlash: false }], // decoded once only
    ["/%2e%2e", 404], // climbs out of the root
    ["/a/../../b", 404],
    ["/a%2fb", 404], // an encoded separator never splits a segment
    ["/a%5cb", 404],
    ["/a%00b", 400],
    ["/%", 400],
    ["/%zz", 400],
    ["/%ff", 400], // not UTF-8
    ["/%c0%ae%c0%ae", 400], // overlong UTF-8 for ".."
  ];
  for (const [input, expected] of table) assert.deepEqual(decodeUrlPath(input), expected, input);
});

const SECRET = `TOP-SECRET-${crypto.randomUUID()}`;

/**
 * Every target is sent byte for byte. None may return any byte of the secret, nor the absolute
 * path of the temporary directory (error pages must not leak paths).
 */
const TRAVERSALS = [
  "/../secret.txt",
  "/../../secret.txt",
  "/./../secret.txt",
  "/a/../../secret.txt",
  "/..%2fsecret.txt",
  "/..%2Fsecret.txt",
  "/%2e%2e/secret.txt",
  "/%2E%2E/secret.txt",
  "/.%2e/secret.txt",
  "/%2e./secret.txt",
  "/%2e%2e%2fsecret.txt",
  "/a/%2e%2e/%2e%2e/secret.txt",
  "/..%5csecret.txt",
  "/%2e%2e%5csecret.txt",
  "/%5c..%5csecret.txt",
  "/..\\secret.txt",
  "/\\..\\secret.txt",
  "/%252e%252e/secret.txt",
  "/%252e%252e%252fsecret.txt",
  "/..%252fsecret.txt",
  "/%c0%ae%c0%ae/secret.txt",
  "/..%c0%afsecret.txt",
  "/%e0%80%ae%e0%80%ae/secret.txt",
  "/%ef%bc%8e%ef%bc%8e/secret.txt",
  "/%u002e%u002e/secret.txt",
  "/..%00/secret.txt",
  "/../secret.txt%00.html",
  "/....//secret.txt",
  "/.../secret.txt",
  "/..;/secret.txt",
  "/index.html/../../secret.txt",
  "/index.html?/../../secret.txt",
  "http://localhost/../secret.txt",
  "/link-out/secret.txt",
  "/link-secret",
  "/link-parent/secret.txt",
  "/link-prefix",
  "/link-absolute",
  "/%2e%2e/root-evil/secret.txt",
];

Deno.test("decodeUrlPath: a path asked for again gets the same answer, frozen; others their own", () => {
  const paths = ["/a/b.txt", "/a/c.txt", "/a/b.txt", "/a/b.txt", "/%zz", "/a/b.txt", "/%zz"];
  const answers = paths.map((path) => decodeUrlPath(path));
  assert.deepEqual(answers.map((answer) => typeof answer === "number" ? answer : answer.segments), [
    ["a", "b.txt"],
    ["a", "c.txt"],
    ["a", "b.txt"],
    ["a", "b.txt"],
    400,
    ["a", "b.txt"],
    400,
  ]);
  assert.equal(answers[2], answers[3]); // asked twice in a row: kept
  const decoded = answers[3];
  assert.ok(typeof decoded !== "number" && Object.isFrozen(decoded));
  assert.throws(() => (decoded.segments as string[]).push("x"), TypeError);
});

Deno.test("candidatePath: frozen segments asked for again give the same path; others are joined anew", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-candidate-" });
  try {
    const root = openRoot(dir, false);
    const decoded = decodeUrlPath("/x/y.txt");
    assert.ok(typeof decoded !== "number");
    const first = candidatePath(root, decoded.segments);
    assert.equal(first, `${root.real}/x/y.txt`);
    assert.equal(candidatePath(root, decoded.segments), first);
    const segments = ["a"]; // not frozen: it may change, so it is never taken as known
    assert.equal(candidatePath(root, segments), `${root.real}/a`);
    segments[0] = "b";
    assert.equal(candidatePath(root, segments), `${root.real}/b`);
    assert.equal(candidatePath(root, []), root.real);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(`traversal: ${TRAVERSALS.length} encodings never reach a file next to the root`, async () => {
  await using s = await site({
    files: {
      "index.html": "<p>home</p>",
      "public.txt": "public content",
      "a/b.txt": "b",
      "../secret.txt": SECRET,
      // Shares the root's name as a string prefix: "/tmp/x/root" vs "/tmp/x/root-evil".
      "../root-evil/secret.txt": SECRET,
    },
    links: {
      "link-out": "..",
      "link-parent": "../",
      "link-secret": "../secret.txt",
      "link-prefix": "../root-evil/secret.txt",
    },
  });
  await Deno.symlink(`${s.dir}/secret.txt`, `${s.root}/link-absolute`);
  const targets = [...TRAVERSALS, `${s.dir}/secret.txt`, `/${s.dir}/secret.txt`];
  targets.push(`/${encodeURIComponent(`${s.dir}/secret.txt`)}`);
  assert.ok(targets.length >= 25);
  for (const target of targets) {
    const response = await s.request(target);
    assert.ok(!response.raw.includes(SECRET), `${target} leaked the secret`);
    assert.ok(!response.raw.includes(s.dir), `${target} leaked the directory path`);
    assert.ok([400, 404].includes(response.status) || response.body === "<p>home</p>", target);
  }
  // The harness can see content: the same server serves files inside the root.
  assert.equal((await s.request("/public.txt")).body, "public content");
});

Deno.test("symlinks inside the root are followed; out of it only with followSymlinks", async () => {
  const files = { "real.txt": "inside", "../secret.txt": SECRET };
  const links = { "alias.txt": "real.txt", "link-secret": "../secret.txt" };
  {
    await using s = await site({ files, links });
    assert.equal((await s.request("/alias.txt")).body, "inside");
    assert.equal((await s.request("/link-secret")).status, 404);
  }
  {
    await using s = await site({ files, links, options: { followSymlinks: true } });
    const response = await s.request("/link-secret");
    assert.equal(response.status, 200);
    assert.equal(response.body, SECRET);
  }
});

Deno.test("dotfiles: ignore (default) is 404, deny is 403, allow serves; listings follow", async () => {
  const files = {
    ".env": "KEY=1",
    ".git/config": "[core]",
    "dir/.hidden": "h",
    "visible.txt": "v",
  };
  const links = { "innocent": ".git" }; // the real path is hidden even if the URL is not
  const table: [string | undefined, number, number][] = [
    [undefined, 404, 404],
    ["ignore", 404, 404],
    ["deny", 403, 403],
    ["allow", 200, 200],
  ];
  for (const [policy, dotStatus, viaLink] of table) {
    const options = policy ? { dotfiles: policy as "allow" | "deny" | "ignore" } : {};
    await using s = await site({ files, links, options });
    assert.equal((await s.request("/.env")).status, dotStatus, `${policy} /.env`);
    assert.equal((await s.request("/.git/config")).status, dotStatus, `${policy} /.git/config`);
    assert.equal((await s.request("/dir/.hidden")).status, dotStatus, `${policy} /dir/.hidden`);
    assert.equal((await s.request("/%2eenv")).status, dotStatus, `${policy} /%2eenv`);
    assert.equal((await s.request("/innocent/config")).status, viaLink, `${policy} via link`);
    assert.equal((await s.request("/visible.txt")).status, 200);
    const listing = (await s.request("/", { accept: "application/json" })).body;
    assert.equal(listing.includes(".env"), policy === "allow", `${policy} listing`);
  }
});

Deno.test("malformed encodings are 400 and the page says nothing else", async () => {
  await using s = await site({ files: { "a.txt": "a" } });
  for (const target of ["/%", "/a%zz", "/%ff", "/a%00.txt"]) {
    const response = await s.request(target);
    assert.equal(response.status, 400, target);
    assert.equal(response.body, "400 Bad Request\n");
  }
});

Deno.test("special files (a FIFO) are 404 and never opened", async () => {
  await using s = await site({ files: { "a.txt": "a" } });
  const mkfifo = await new Deno.Command("mkfifo", { args: [`${s.root}/pipe`] }).output();
  assert.equal(mkfifo.code, 0);
  assert.equal((await s.request("/pipe")).status, 404);
});
