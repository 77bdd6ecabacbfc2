/**
 * `deno run --allow-read bench/gc_summary.ts FILE`: what V8's garbage collector did while a server
 * ran with `--v8-flags=--trace-gc-nvp` (one `GC: {…}` JSON record per collection on stdout). The
 * figures that explain a peak RSS: how large V8 let the young generation grow, how much of it
 * survived each scavenge (live objects copied) and how much was promoted to the old generation
 * (garbage there waits for a mark-compact). See bench/README.md, "Profiling".
 */

/** The fields of a `--trace-gc-nvp` record this summary reads. */
interface GcRecord {
  gc: string; // "s" for a scavenge, "mc"/"mmc" for mark-compacts
  pause: number; // ms
  new_space_capacity: number;
  new_space_survived: number;
  promoted: number;
  end_memory_size: number; // the heap's committed bytes after the collection
}

export interface GcSummary {
  scavenges: number;
  markCompacts: number;
  /** ms, all collections. */
  totalPause: number;
  maxNewSpaceBytes: number;
  maxCommittedBytes: number;
  /** Medians over the second half of the scavenges (the steady state, past the warm-up). */
  survivedBytes: number;
  promotedBytes: number;
}

export function summarizeGcTrace(text: string): GcSummary {
  const records: GcRecord[] = [];
  for (const match of text.matchAll(/GC: (\{.*\})/g)) records.push(JSON.parse(match[1]));
  const scavenges = records.filter((r) => r.gc === "s");
  const steady = scavenges.slice(Math.floor(scavenges.length / 2));
  return {
    scavenges: scavenges.length,
    markCompacts: records.length - scavenges.length,
    totalPause: records.reduce((sum, r) => sum + r.pause, 0),
    maxNewSpaceBytes: Math.max(0, ...records.map((r) => r.new_space_capacity)),
    maxCommittedBytes: Math.max(0, ...records.map((r) => r.end_memory_size)),
    survivedBytes: median(steady.map((r) => r.new_space_survived)),
    promotedBytes: median(steady.map((r) => r.promoted)),
  };
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

if (import.meta.main) {
  const [file] = Deno.args;
  if (!file) {
    console.error("usage: deno run --allow-read bench/gc_summary.ts TRACE_FILE");
    Deno.exit(2);
  }
  const s = summarizeGcTrace(await Deno.readTextFile(file));
  const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
  console.log(
    `${s.scavenges} scavenges, ${s.markCompacts} mark-compacts, ` +
      `${s.totalPause.toFixed(0)} ms of pauses`,
  );
  console.log(
    `young generation up to ${kib(s.maxNewSpaceBytes)}, heap committed up to ` +
      `${kib(s.maxCommittedBytes)}`,
  );
  console.log(
    `each scavenge (median, steady state): ${kib(s.survivedBytes)} survived, ` +
      `${kib(s.promotedBytes)} promoted`,
  );
}
