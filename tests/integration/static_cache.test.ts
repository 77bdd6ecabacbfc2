/** The file server's cache of resolutions and small files: a changed file is served changed at once. */
import assert from "node:assert/strict";
import { FileCache, foldName, Listing } from "../../src/static/cache.ts";
import { fileAnswer, type FileResponseOptions } from "../../src/static/file_response.ts";
import { loadTypes } from "../../src/static/mime.ts";
import { openRoot } from "../../src/static/path.ts";
import { site } from "../static_fixture.ts";

const OLD = new Date("2024-03-10T12:00:00Z");
const LATER = new Date("2024-03-10T13:00:00Z");

Deno.test("cache: an edited file is served with its new bytes, ETag and Last-Modified", async () => {
  await using s = await site({ files: { "a.txt": "first version" } });
  await Deno.utime(`${s.root}/a.txt`, OLD, OLD); // settled: its bytes may be kept
  const first = await s.request("/a.txt");
  assert.equal((await s.request("/a.txt")).body, "first version"); // served from the cache
  await Deno.writeTextFile(`${s.root}/a.txt`, "second, longer version");
  await Deno.utime(`${s.root}/a.txt`, LATER, LATER);
  const second = await s.request("/a.txt");
  assert.equal(second.body, "second, longer version");
  assert.notEqual(second.headers.get("etag"), first.headers.get("etag"));
  // Validators are made once per unchanged file (conditional.ts): they must follow the edit.
  assert.equal(first.headers.get("last-modified"), OLD.toUTCString());
  assert.equal(second.headers.get("last-modified"), LATER.toUTCString());
});

Deno.test("cache: a file replaced by another of the same size and time is seen (new inode)", async () => {
  await using s = await site({ files: { "a.txt": "AAAA", "b.txt": "BBBB" } });
  for (const name of ["a.txt", "b.txt"]) await Deno.utime(`${s.root}/${name}`, OLD, OLD);
  assert.equal((await s.request("/a.txt")).body, "AAAA");
  await Deno.rename(`${s.root}/b.txt`, `${s.root}/a.txt`);
  assert.equal((await s.request("/a.txt")).body, "BBBB");
});

Deno.test("cache: a removed file is 404, a symlink moved to another file follows it", async () => {
  await using s = await site({
    files: { "one.txt": "one", "two.txt": "two!", "gone.txt": "bye" },
    links: { "link.txt": "one.txt" },
  });
  for (const name of ["one.txt", "two.txt", "gone.txt"]) {
    await Deno.utime(`${s.root}/${name}`, OLD, OLD);
  }
  assert.equal((await s.request("/gone.txt")).body, "bye");
  await Deno.remove(`${s.root}/gone.txt`);
  assert.equal((await s.request("/gone.txt")).status, 404);
  assert.equal((await s.request("/link.txt")).body, "one");
  await Deno.remove(`${s.root}/link.txt`);
  await Deno.symlink("two.txt", `${s.root}/link.txt`);
  assert.equal((await s.request("/link.txt")).body, "two!");
});

Deno.test("cache: a symlink moved out of the root is refused at once", async () => {
  await using s = await site({
    files: { "in.txt": "inside", "../secret.txt": "secret" },
    links: { "link.txt": "in.txt" },
  });
  await Deno.utime(`${s.root}/in.txt`, OLD, OLD);
  assert.equal((await s.request("/link.txt")).body, "inside");
  await Deno.remove(`${s.root}/link.txt`);
  await Deno.symlink(`${s.dir}/secret.txt`, `${s.root}/link.txt`);
  assert.equal((await s.request("/link.txt")).status, 404);
});

/** A `stat` result for the cache: only the fields `sameFile` compares matter. */
function info(size: number, mtime: Date, ino = 1): Deno.FileInfo {
  return { size, mtime, ino, dev: 1 } as Deno.FileInfo;
}

Deno.test("FileCache.bytesOf: small files kept from the first read, large from the second", () => {
  const cache = new FileCache();
  let reads = 0;
  const reader = (size: number) => () => {
    reads++;
    return new Uint8Array(size).fill(reads);
  };
  const small = info(1024, OLD);
  assert.equal(cache.bytesOf("/s", small, reader(1024))?.[0], 1);
  assert.equal(cache.bytesOf("/s", small, reader(1024))?.[0], 1, "kept: not read again");
  assert.equal(reads, 1);

  const large = info(512 * 1024, OLD);
  assert.equal(cache.bytesOf("/l", large, reader(512 * 1024)), null, "first request: streamed");
  assert.equal(reads, 1);
  assert.equal(cache.bytesOf("/l", large, reader(512 * 1024))?.[0], 2, "second: read and kept");
  assert.equal(cache.bytesOf("/l", large, reader(512 * 1024))?.[0], 2, "third: the kept bytes");
  assert.equal(reads, 2);

  const edited = info(512 * 1024, LATER);
  assert.equal(cache.bytesOf("/l", edited, reader(512 * 1024)), null, "changed: streamed again");
  assert.equal(cache.bytesOf("/l", edited, reader(512 * 1024))?.[0], 3);

  const fresh = info(512 * 1024, new Date());
  for (let i = 0; i < 3; i++) {
    assert.equal(cache.bytesOf("/f", fresh, reader(512 * 1024)), null, "not settled: streamed");
  }
  const huge = info(4 * 1024 * 1024, OLD);
  for (let i = 0; i < 3; i++) {
    assert.equal(cache.bytesOf("/h", huge, reader(4 * 1024 * 1024)), null, "too large: streamed");
  }
  assert.equal(reads, 3);
});

Deno.test("FileCache.bytesOf: at most 16 MiB kept, the least recently used dropped first", () => {
  const cache = new FileCache();
  let reads = 0;
  const read = () => {
    reads++;
    return new Uint8Array(1024 * 1024);
  };
  const files = Array.from({ length: 17 }, (_, i) => [`/f${i}`, info(1024 * 1024, OLD, i + 1)]);
  const use = (i: number) =>
    cache.bytesOf(files[i][0] as string, files[i][1] as Deno.FileInfo, read);
  for (let i = 0; i < 16; i++) {
    use(i); // candidate
    use(i); // kept
  }
  assert.equal(reads, 16);
  use(0); // f0 becomes the most recently used
  use(16);
  use(16); // keeping f16 drops the least recently used: f1, not f0
  assert.equal(reads, 17);
  use(0);
  assert.equal(reads, 17, "f0 still kept");
  use(1);
  use(1);
  assert.equal(reads, 18, "f1 was dropped and is read again");
});

Deno.test("cache: a large hot file is served whole, and an edit is seen at once", async () => {
  const first = "a".repeat(300 * 1024);
  await using s = await site({ files: { "big.txt": first } });
  await Deno.utime(`${s.root}/big.txt`, OLD, OLD);
  for (let i = 0; i < 3; i++) assert.equal((await s.request("/big.txt")).body, first);
  const second = "b".repeat(300 * 1024);
  await Deno.writeTextFile(`${s.root}/big.txt`, second);
  await Deno.utime(`${s.root}/big.txt`, LATER, LATER);
  for (let i = 0; i < 3; i++) assert.equal((await s.request("/big.txt")).body, second);
});

Deno.test("cache: one file's usual answer is the same each time, whatever is asked in between", async () => {
  await using s = await site({
    files: { "a.txt": "0123456789" },
    options: { cors: true, cacheControl: "no-cache", headers: { "x-served-by": "sockserve" } },
  });
  await Deno.utime(`${s.root}/a.txt`, OLD, OLD);
  /** The header fields but Date, in order: Date is the engine's, and ticks. */
  const fields = (raw: string) =>
    raw.split("\r\n\r\n")[0].split("\r\n").filter((line) => !/^date:/i.test(line));
  const first = await s.request("/a.txt");
  const etag = first.headers.get("etag")!;
  // The fields of the usual answer are made once and shared (file_response.ts): what other
  // answers for the same file add or leave out must never reach them.
  const others = [
    await s.request("/a.txt", { range: "bytes=2-4" }),
    await s.request("/a.txt", { "if-none-match": etag }),
    await s.request("/a.txt", {}, "HEAD"),
    await s.request("/a.txt", { "if-range": etag, range: "bytes=0-0" }),
  ];
  assert.deepEqual(others.map((r) => r.status), [206, 304, 200, 206]);
  assert.equal(others[2].headers.get("content-length"), "10");
  for (let i = 0; i < 3; i++) {
    const again = await s.request("/a.txt");
    assert.equal(again.body, "0123456789");
    assert.deepEqual(fields(again.raw), fields(first.raw));
  }
  for (const name of ["x-served-by", "access-control-allow-origin", "x-content-type-options"]) {
    const lines = fields(first.raw).filter((line) => line.startsWith(`${name}:`));
    assert.equal(lines.length, 1, `${name} once: ${lines}`);
  }
  assert.ok(!first.headers.has("content-range"));
  assert.equal(first.headers.get("content-length"), "10");
});

Deno.test("fileAnswer: bytes shorter than the stat said get their own fields, the shared ones stay", async () => {
  await loadTypes();
  const dir = await Deno.makeTempDir({ prefix: "sockserve-static-" });
  try {
    const stat = info(10, OLD);
    let bytes = new Uint8Array(10);
    const cache = { bytesOf: () => bytes } as unknown as FileCache;
    const options: FileResponseOptions = {
      root: openRoot(dir, false),
      compress: false,
      cacheControl: null,
      cache,
      commonFields: [["x-served-by", "test"]],
      sharedFields: new WeakMap(),
    };
    const view = { method: "GET", pathname: "/a.txt", search: "", headers: new Headers() };
    const target = { path: `${dir}/a.txt`, info: stat };
    const whole = fileAnswer(view, target, options);
    assert.ok(whole.headers.frozen, "shared");
    assert.equal(whole.headers.get("content-length"), "10");
    assert.equal(whole.headers.get("x-served-by"), "test");
    assert.equal(fileAnswer(view, target, options).headers, whole.headers, "the same list again");

    bytes = new Uint8Array(4); // the file shrank between its stat and its read
    const shrunk = fileAnswer(view, target, options);
    assert.equal(shrunk.headers.get("content-length"), "4");
    assert.equal(shrunk.body?.kind === "bytes" && shrunk.body.bytes, bytes);
    assert.ok(!shrunk.headers.frozen);
    assert.equal(options.sharedFields.get(stat), whole.headers);
    assert.equal(whole.headers.get("content-length"), "10", "the shared list is unchanged");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cache: a directory's index page follows edits, its removal and its return", async () => {
  await using s = await site({ files: { "docs/index.html": "<p>first</p>" } });
  await Deno.utime(`${s.root}/docs/index.html`, OLD, OLD);
  const first = await s.request("/docs/");
  assert.equal((await s.request("/docs/")).body, "<p>first</p>"); // remembered resolutions
  assert.equal(first.body, "<p>first</p>");
  await Deno.writeTextFile(`${s.root}/docs/index.html`, "<p>second</p>");
  await Deno.utime(`${s.root}/docs/index.html`, LATER, LATER);
  const second = await s.request("/docs/");
  assert.equal(second.body, "<p>second</p>");
  assert.notEqual(second.headers.get("etag"), first.headers.get("etag"));
  await Deno.remove(`${s.root}/docs/index.html`);
  const listing = await s.request("/docs/");
  assert.equal(listing.status, 200);
  assert.ok(!listing.body.includes("second"), "the listing, not the removed page");
  assert.match(listing.headers.get("content-type") ?? "", /^text\/html/);
  await Deno.writeTextFile(`${s.root}/docs/index.html`, "<p>third</p>");
  assert.equal((await s.request("/docs/")).body, "<p>third</p>");
});

Deno.test("cache: a directory replaced by a symlink out of the root is refused at once", async () => {
  await using s = await site({
    files: { "d/index.html": "inside", "d/a.txt": "a", "../out/index.html": "secret" },
  });
  assert.equal((await s.request("/d/")).body, "inside");
  assert.equal((await s.request("/d/a.txt")).body, "a");
  await Deno.remove(`${s.root}/d`, { recursive: true });
  await Deno.symlink(`${s.dir}/out`, `${s.root}/d`);
  for (const target of ["/d/", "/d/index.html", "/d"]) {
    const response = await s.request(target);
    assert.equal(response.status, 404, target);
    assert.ok(!response.body.includes("secret"), target);
  }
});

Deno.test("foldName: folds at least what any file system takes for the same name", () => {
  const same: [string, string][] = [
    ["index.html", "INDEX.HTML"],
    ["Straße.txt", "STRASSE.TXT"], // case-insensitive file systems fold ß with ss
    ["caf\u00e9", "cafe\u0301"], // composed and decomposed é (macOS stores the latter)
    ["\ufb01le", "file"], // the "fi" ligature
    ["\u212a", "k"], // the Kelvin sign
    ["İstanbul", "istanbul"],
  ];
  for (const [a, b] of same) assert.equal(foldName(a), foldName(b), `${a} ~ ${b}`);
  assert.notEqual(foldName("a.txt"), foldName("b.txt"));
  const listing = new Listing(["Readme.md", "caf\u00e9.html", "a.txt"]);
  assert.ok(listing.mayHave("Readme.md"));
  assert.ok(listing.mayHave("README.MD"));
  assert.ok(listing.mayHave("cafe\u0301.html"));
  assert.ok(!listing.mayHave("favicon.ico"));
  assert.ok(!listing.mayHave("a.txt.gz"));
});

Deno.test("cache: a missing file is 404 from the directory's listing, and served once it is there", async () => {
  await using s = await site({ files: { "a.txt": "a", "docs/b.txt": "b" } });
  for (const dir of [s.root, `${s.root}/docs`]) await Deno.utime(dir, OLD, OLD);
  for (const target of ["/favicon.ico", "/docs/favicon.ico", "/nope/deeper/x.txt", "/a.txt/x"]) {
    for (let i = 0; i < 2; i++) assert.equal((await s.request(target)).status, 404, target);
  }
  assert.equal((await s.request("/docs/b.txt")).body, "b");
  await Deno.writeTextFile(`${s.root}/docs/favicon.ico`, "icon");
  // The directory changed and looks settled again (as after a copy that keeps times).
  await Deno.utime(`${s.root}/docs`, LATER, LATER);
  assert.equal((await s.request("/docs/favicon.ico")).body, "icon");
  await Deno.mkdir(`${s.root}/nope`);
  await Deno.writeTextFile(`${s.root}/nope/x.txt`, "x");
  await Deno.utime(s.root, LATER, LATER);
  assert.equal((await s.request("/nope/x.txt")).body, "x");
});

Deno.test("FileCache.listingOf: settled directories only, and a bound on the names kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-static-" });
  try {
    for (const sub of ["one", "two", "three"]) {
      await Deno.mkdir(`${dir}/${sub}`);
      for (const name of ["a", "b", "c"]) await Deno.writeTextFile(`${dir}/${sub}/${name}`, name);
    }
    const cache = new FileCache({ maxListedNames: 7 });
    assert.equal(cache.listingOf(`${dir}/one`), null, "just written: not settled");
    for (const sub of ["one", "two", "three"]) await Deno.utime(`${dir}/${sub}`, OLD, OLD);
    for (const sub of ["one", "two", "three"]) {
      const listing = cache.listingOf(`${dir}/${sub}`);
      assert.ok(listing?.mayHave("a") && !listing.mayHave("d"), sub);
      assert.ok(cache.listedNames <= 7, `${cache.listedNames} names kept`);
    }
    assert.equal(cache.listedNames, 6, "the oldest listing was dropped for the third");
    assert.equal(cache.listingOf(`${dir}/one/a`), null, "a file has no listing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
