/** bench/perf_top.ts over `perf script` output and a perf map shaped like the real ones. */
import assert from "node:assert/strict";
import { builtinAt, parseBuiltins, tally } from "../../bench/perf_top.ts";

const MAP = [
  "7f0000000000 100 Builtin:DeoptimizationEntry_Eager",
  "7f0000000400 200 Builtin:RunMicrotasks",
  "7f0000001000 80 Builtin:FulfillPromise",
  "7f1000000000 40 JS:*'serve file:///srv/conn.ts:49:105",
].join("\n");

const SCRIPT = [
  "PERF_RECORD_MMAP2 7/7: [0x5500000000(0x3cf4000) @ 0x1b8e000 fe:00 1 0]: r-xp /opt/deno/deno",
  "PERF_RECORD_MMAP2 7/7: [0x7f0000000000(0x226000) @ 0x35cf000 fe:00 1 0]: r-xp /opt/deno/deno",
  "",
  "\t         35cf450 [unknown] (/opt/deno/deno)", // 0x450 into the copy: RunMicrotasks
  "\t         35cf5ff [unknown] (/opt/deno/deno)", // its last byte
  "\t         35d0010 [unknown] (/opt/deno/deno)", // FulfillPromise
  "\t         35cf300 [unknown] (/opt/deno/deno)", // between two built-ins: unnamed
  "\t         1d99417 [unknown] (/opt/deno/deno)", // Deno's Rust code
  "\t    7f1000000010 JS:*'serve file:///srv/conn.ts:49:105 (/tmp/perf-7.map)",
  "\tffffffff813438b0 __virt_addr_valid ([kernel.kallsyms])",
  "\t    7fdf6367a000 malloc (/usr/lib/x86_64-linux-gnu/libc.so.6)",
].join("\n");

Deno.test("perf_top: built-ins are read from the map, sorted, and found by address", () => {
  const builtins = parseBuiltins(MAP);
  assert.deepEqual(builtins.map((b) => b.name), [
    "Builtin:DeoptimizationEntry_Eager",
    "Builtin:RunMicrotasks",
    "Builtin:FulfillPromise",
  ]);
  const table: [bigint, string | null][] = [
    [0x7f0000000000n, "Builtin:DeoptimizationEntry_Eager"],
    [0x7f00000000ffn, "Builtin:DeoptimizationEntry_Eager"],
    [0x7f0000000100n, null],
    [0x7f00000005ffn, "Builtin:RunMicrotasks"],
    [0x7f0000000600n, null],
    [0x7f0000001000n, "Builtin:FulfillPromise"],
    [0x6f0000000000n, null],
  ];
  for (const [address, name] of table) assert.equal(builtinAt(builtins, address), name);
});

Deno.test("perf_top: samples in V8's copy of the built-ins are named, the rest sorted by kind", () => {
  const result = tally(SCRIPT, parseBuiltins(MAP));
  assert.equal(result.total, 8);
  assert.ok(result.builtinsFound);
  assert.deepEqual(Object.fromEntries(result.byKind), {
    "V8 built-ins": 3,
    "Deno and V8 (no symbols)": 2,
    "JavaScript (JIT)": 1,
    kernel: 1,
    libraries: 1,
  });
  assert.equal(result.byName.get("Builtin:RunMicrotasks"), 2);
  assert.equal(result.byName.get("Builtin:FulfillPromise"), 1);
  assert.equal(result.byName.get("deno (no symbols)"), 2);
  assert.equal(result.byName.get("malloc"), 1);
});

Deno.test("perf_top: without the built-ins' mapping nothing is named a built-in", () => {
  const script = SCRIPT.split("\n").filter((line) => !line.includes("@ 0x35cf000")).join("\n");
  const result = tally(script, parseBuiltins(MAP));
  assert.equal(result.builtinsFound, false);
  assert.equal(result.byKind.get("V8 built-ins"), undefined);
  assert.equal(result.byKind.get("Deno and V8 (no symbols)"), 5);
});
