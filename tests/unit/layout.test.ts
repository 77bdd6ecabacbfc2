/**
 * The layout's rules, checked over the source tree: no import cycles among the library's modules
 * (type-only imports count too: a cycle of types is still two modules that cannot be read apart).
 */
import assert from "node:assert/strict";

const SRC = new URL("../../src/", import.meta.url);
const SPECIFIER = /(?:import|export)[^;]*?from\s+["'](\.{1,2}\/[^"']+)["']/gs;

/** Every .ts module under `dir`, as a URL. */
async function modules(dir: URL): Promise<URL[]> {
  const found: URL[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) found.push(...await modules(url));
    else if (entry.name.endsWith(".ts")) found.push(url);
  }
  return found;
}

/** The module graph: each module's relative imports, resolved. */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const url of await modules(SRC)) {
    const text = await Deno.readTextFile(url);
    graph.set(url.href, [...text.matchAll(SPECIFIER)].map((m) => new URL(m[1], url).href));
  }
  return graph;
}

/** One cycle of the graph as a path of modules, or null when it has none. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== null) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle !== null) return cycle;
  }
  return null;
}

Deno.test("layout: the cycle finder finds a cycle of two modules and a longer one", () => {
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["a"]]])), ["a", "b", "a"]);
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["b"]]])), [
    "b",
    "c",
    "b",
  ]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), null);
});

Deno.test("layout: no module under src/ imports itself back through others", async () => {
  const graph = await importGraph();
  assert.ok(graph.size > 40, `only ${graph.size} modules found under src/`);
  const cycle = findCycle(graph);
  const names = cycle?.map((href) => href.slice(SRC.href.length));
  assert.equal(names, undefined, `import cycle: ${names?.join(" -> ")}`);
});
