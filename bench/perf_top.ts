/**
 * `deno run --allow-read --allow-run bench/perf_top.ts PERF.DATA PERF-PID.MAP [N]`: where a
 * server's CPU time went, from a Linux `perf record` of its process, with V8's built-in functions
 * named.
 *
 * V8's own CPU profile charges synchronous ops with time that is not theirs (`op_fs_stat_sync`
 * shows 27% of the 1 KiB static load, where a second `stat` a request costs 8%); `perf` samples do
 * not. `perf` names kernel functions, and JavaScript compiled at run time when the process ran with
 * `--v8-flags=--perf-basic-prof` (which writes /tmp/perf-PID.map). It cannot name V8's built-ins
 * (promises, microtasks, typed arrays, string and regexp functions): they are compiled into the
 * `deno` binary, which ships without symbols, and V8 runs them from a second mapping of the same
 * file. The map file gives that mapping's addresses, the recording gives where it maps the file
 * from, and this script puts the two together.
 *
 * Prints each kind of code's share of the samples (kernel, JavaScript, built-ins, the rest of
 * Deno and V8, libraries), then the N leaf functions with the most samples.
 */

interface MapEntry {
  start: bigint;
  end: bigint;
  name: string;
}

/** A mapping of the deno binary: where in memory, and from which offset of the file. */
interface Mapping {
  start: bigint;
  length: bigint;
  fileOffset: bigint;
}

/** perf-PID.map lines: `START SIZE NAME`, hexadecimal; only the built-ins are needed here. */
export function parseBuiltins(text: string): MapEntry[] {
  const entries: MapEntry[] = [];
  for (const line of text.split("\n")) {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (Builtin:.*)$/.exec(line);
    if (!match) continue;
    const start = BigInt(`0x${match[1]}`);
    entries.push({ start, end: start + BigInt(`0x${match[2]}`), name: match[3] });
  }
  return entries.sort((a, b) => (a.start < b.start ? -1 : 1));
}

/** The name of the built-in at `address`, or null (binary search over sorted entries). */
export function builtinAt(entries: MapEntry[], address: bigint): string | null {
  let low = 0;
  let high = entries.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (address < entries[mid].start) high = mid - 1;
    else if (address >= entries[mid].end) low = mid + 1;
    else return entries[mid].name;
  }
  return null;
}

/**
 * Leaf samples counted by name and by kind, from `perf script` output with mmap events: a sample
 * line is `ADDRESS SYMBOL (DSO)`, where the address is an offset in the file for a mapped binary.
 */
export function tally(script: string, builtins: MapEntry[]) {
  const byName = new Map<string, number>();
  const byKind = new Map<string, number>();
  let remap: Mapping | null = null;
  let total = 0;
  const first = builtins[0]?.start ?? -1n;
  for (const line of script.split("\n")) {
    const mmap =
      /PERF_RECORD_MMAP2? .*\[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ 0x([0-9a-f]+) .*\]: r-xp .*\/deno$/
        .exec(line);
    if (mmap) {
      const start = BigInt(`0x${mmap[1]}`);
      // The mapping that starts where the map file puts the first built-in is V8's copy of them.
      if (start === first) {
        remap = { start, length: BigInt(`0x${mmap[2]}`), fileOffset: BigInt(`0x${mmap[3]}`) };
      }
      continue;
    }
    const sample = /^\s*([0-9a-f]+) (.*) \((.*)\)$/.exec(line);
    if (!sample) continue;
    total++;
    const [, address, symbol, dso] = sample;
    let kind: string;
    let name = symbol;
    if (dso === "[kernel.kallsyms]") kind = "kernel";
    else if (dso.includes("perf-") || dso.startsWith("[JIT]")) kind = "JavaScript (JIT)";
    else if (dso.endsWith("/deno")) {
      const offset = BigInt(`0x${address}`);
      const builtin = remap !== null && offset >= remap.fileOffset &&
          offset < remap.fileOffset + remap.length
        ? builtinAt(builtins, remap.start + offset - remap.fileOffset)
        : null;
      kind = builtin !== null ? "V8 built-ins" : "Deno and V8 (no symbols)";
      name = builtin ?? "deno (no symbols)";
    } else {
      kind = "libraries";
      if (name === "[unknown]") name = `${dso.split("/").pop()} (no symbols)`;
    }
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    byName.set(name, (byName.get(name) ?? 0) + 1);
  }
  return { total, byKind, byName, builtinsFound: remap !== null };
}

if (import.meta.main) {
  const [data, mapFile, count = "30"] = Deno.args;
  if (!data || !mapFile) {
    console.error(
      "usage: deno run --allow-read --allow-run bench/perf_top.ts PERF.DATA /tmp/perf-PID.map [N]",
    );
    Deno.exit(2);
  }
  const output = await new Deno.Command("perf", {
    args: ["script", "-i", data, "--show-mmap-events", "-F", "ip,sym,dso", "--max-stack", "1"],
    stderr: "null",
  }).output();
  if (!output.success) throw new Error(`perf script failed on ${data}`);
  const builtins = parseBuiltins(await Deno.readTextFile(mapFile));
  const result = tally(new TextDecoder().decode(output.stdout), builtins);
  if (!result.builtinsFound) console.error("no mapping of V8's built-ins found: are they unnamed?");
  const share = (n: number) => `${(n / result.total * 100).toFixed(1).padStart(5)}%`;
  console.log(`${result.total} samples`);
  for (const [kind, n] of [...result.byKind].sort((a, b) => b[1] - a[1])) {
    console.log(`${share(n)}  ${kind}`);
  }
  console.log("");
  for (const [name, n] of [...result.byName].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
    console.log(`${share(n)}  ${name}`);
  }
}
