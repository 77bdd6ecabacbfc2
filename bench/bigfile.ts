/**
 * Large-file memory check: `deno task bench:bigfile [--size-mib N]`.
 *
 * Serves one big file (default 1 GiB) with `deno task serve` and downloads it with curl twice:
 * at full speed, and through a client reading at a tenth of that speed (so the disk is faster than
 * the socket and a server without backpressure would pile the file up in memory). The server's
 * peak resident memory (VmHWM of its processes) is read after a warm-up request and after each
 * download: "flat" means the downloads add less than the streaming budget (a few read buffers and
 * socket buffers), never anything near the file's size.
 *
 * Prints a table and writes it to bench/bigfile-results.md. Exits 1 when memory grew by more than
 * `--budget-mib` (default 64).
 */
import { parseArgs } from "node:util";
import { PEERS } from "./servers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "size-mib": { type: "string", default: "1024" },
    "budget-mib": { type: "string", default: "64" },
    out: { type: "string", default: new URL("./bigfile-results.md", import.meta.url).pathname },
  },
});
const sizeBytes = Number(values["size-mib"]) * 1024 * 1024;
const budgetKiB = Number(values["budget-mib"]) * 1024;

/** Downloads `url` to /dev/null; returns seconds taken and curl's byte count. */
async function download(
  url: string,
  rateLimit?: string,
): Promise<{ seconds: number; bytes: number }> {
  const args = ["-sS", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", url];
  if (rateLimit) args.unshift("--limit-rate", rateLimit);
  const out = await new Deno.Command("curl", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`curl failed: ${new TextDecoder().decode(out.stderr)}`);
  const [bytes, seconds] = new TextDecoder().decode(out.stdout).split(" ").map(Number);
  return { seconds, bytes };
}

const root = await Deno.makeTempDir({ prefix: "sockserve-bigfile-" });
const scratch = await Deno.makeTempDir({ prefix: "sockserve-bigfile-scratch-" });
const rows: string[] = [];
let grewTooMuch = false;
try {
  // A sparse file: the test is about the server's memory, not the disk's speed.
  const file = await Deno.open(`${root}/big.bin`, { write: true, create: true });
  await file.truncate(sizeBytes);
  file.close();
  await Deno.writeTextFile(`${root}/small.txt`, "warm-up");

  const server = await PEERS["sockserve-cli"].start({ staticRoot: root, scratch });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    await download(`${base}/small.txt`);
    const baselineKiB = server.peakMemoryKiB();
    const fast = await download(`${base}/big.bin`);
    const afterFastKiB = server.peakMemoryKiB();
    const rate = `${Math.max(1, Math.round(fast.bytes / fast.seconds / 10 / 1024 / 1024))}M`;
    const slow = await download(`${base}/big.bin`, rate);
    const afterSlowKiB = server.peakMemoryKiB();
    for (
      const [label, run, peakKiB] of [
        ["full speed", fast, afterFastKiB],
        [`client limited to ${rate}B/s`, slow, afterSlowKiB],
      ] as const
    ) {
      if (run.bytes !== sizeBytes) {
        throw new Error(`${label}: got ${run.bytes} of ${sizeBytes} bytes`);
      }
      const growthKiB = peakKiB - baselineKiB;
      grewTooMuch ||= growthKiB > budgetKiB;
      rows.push(
        `| ${label} | ${(run.bytes / 1024 / 1024 / run.seconds).toFixed(0)} MiB/s | ` +
          `${(baselineKiB / 1024).toFixed(0)} MiB | ${(peakKiB / 1024).toFixed(0)} MiB | ` +
          `${(growthKiB / 1024).toFixed(1)} MiB |`,
      );
    }
  } finally {
    await server.stop();
  }
} finally {
  await Deno.remove(root, { recursive: true });
  await Deno.remove(scratch, { recursive: true });
}

const report = [
  `# Large-file memory check`,
  ``,
  `${new Date().toISOString()}: one ${sizeBytes / 1024 / 1024} MiB file served by`,
  "`deno task serve`, downloaded with curl. Peak resident memory (VmHWM) of the server's processes",
  `after a warm-up request (baseline) and after the download; budget ${budgetKiB / 1024} MiB.`,
  ``,
  `| download | speed | baseline peak | peak after | growth |`,
  `| --- | ---: | ---: | ---: | ---: |`,
  ...rows,
  ``,
  grewTooMuch ? "Result: FAIL (memory grew past the budget)" : "Result: pass (memory stayed flat)",
  ``,
].join("\n");
console.log(report);
await Deno.writeTextFile(values.out, report);
Deno.exit(grewTooMuch ? 1 : 0);
