/**
 * Content types are loaded by the first fileServer(), not on import (src/static/mime.ts): a
 * request that arrives before they are loaded waits for them. This file must be the first in its
 * isolate to create a file server, so it does so at the top, before any test runs.
 */
import assert from "node:assert/strict";
import { fileServer } from "../../mod.ts";
import { loadTypes, typeOf, typesLoaded } from "../../src/static/mime.ts";

const loadedOnImport = typesLoaded();
const root = await Deno.makeTempDir({ prefix: "sockserve-types-" });
const files = {
  "page.html": "text/html; charset=utf-8",
  "data.json": "application/json; charset=utf-8",
  "blob.unknown-ext": "application/octet-stream",
};
for (const name of Object.keys(files)) await Deno.writeTextFile(`${root}/${name}`, "x");
const handler = fileServer(root);
// Asked in the same turn as the server was made: the types cannot have loaded yet.
const early = Object.keys(files).map((name) => handler(new Request(`http://x/${name}`)));
const loadedBeforeAnswering = typesLoaded();

Deno.test("importing mod.ts loads no content types; a request that comes first waits for them", async () => {
  try {
    assert.equal(loadedOnImport, false);
    assert.equal(loadedBeforeAnswering, false);
    const types = await Promise.all(
      early.map(async (answer) => (await answer).headers.get("content-type")),
    );
    assert.deepEqual(types, Object.values(files));
    assert.equal(typesLoaded(), true);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("typeOf: names asked for in turn, again and again, each get their own type", async () => {
  await loadTypes();
  const names = ["a.txt", "a.txt", "b.PNG", "a.txt", "README", "b.PNG", "c.tar.gz", "a.txt"];
  assert.deepEqual(names.map((name) => typeOf(`/srv/${name}`).contentType), [
    "text/plain; charset=utf-8",
    "text/plain; charset=utf-8",
    "image/png",
    "text/plain; charset=utf-8",
    "application/octet-stream",
    "image/png",
    "application/gzip",
    "text/plain; charset=utf-8",
  ]);
});
