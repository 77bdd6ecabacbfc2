/**
 * `deno run --allow-read bench/profile_top.ts FILE.cpuprofile [N]`: the N functions with the most
 * self time in a V8 CPU profile (as written by `deno run --cpu-prof`), for reading a profile in a
 * terminal or pasting into notes without opening DevTools.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function topSelfTime(profile: CpuProfile, n: number): { name: string; ms: number }[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const where = frame.url ? ` ${frame.url.replace(/^file:\/\/.*?\/(src|bench)\//, "$1/")}` : "";
    const name = `${frame.functionName || "(anonymous)"}${where}:${frame.lineNumber + 1}`;
    // timeDeltas[i] is the time since the previous sample, in microseconds.
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms).slice(0, n);
}

if (import.meta.main) {
  const [file, count = "25"] = Deno.args;
  if (!file) {
    console.error("usage: deno run --allow-read bench/profile_top.ts FILE.cpuprofile [N]");
    Deno.exit(2);
  }
  const profile = JSON.parse(await Deno.readTextFile(file)) as CpuProfile;
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
  console.log(`${total.toFixed(0)} ms sampled; self time:`);
  for (const { name, ms } of topSelfTime(profile, Number(count))) {
    console.log(
      `${ms.toFixed(1).padStart(9)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  ${name}`,
    );
  }
}
