/**
 * Soak test: `deno task soak [--requests N] [--close-share F]`.
 *
 * Starts sockserve's hello server in its own process (bench/embedded_server.ts), then drives it
 * with wrk in short rounds that alternate keep-alive connections and a new connection per request
 * (`Connection: close`) until N requests (default 1 000 000) have been answered. It records the
 * server's resident memory after the first 100 000 requests, once half of them are done and again
 * at the end, and its open descriptors before the load and after it (once the server is quiescent).
 *
 * Passes (exit 0) when: no failed request (socket errors + non-2xx), resident memory at the end
 * within 5% of its level at half-way, descriptors back to the baseline. Writes the figures to
 * bench/soak-results.md.
 *
 * Why a fixed young generation: V8 grows its young generation with the load, doubling it each time
 * what survived scavenges since the last doubling exceeds its size, so when the last doubling
 * comes depends on how much the server allocates a request. Left to itself, it falls in the first
 * or the second half of a run depending on that (22% less allocated a request moved it from one to
 * the other, with the same end at 97–100 MiB), and in the second half its 16 MiB looks like a
 * leak. The server therefore runs with its young generation at that final size from the start,
 * and what grows between half-way and the end is what a leak would grow: a leak of 10 bytes a
 * request grows the second half by 5% of ~100 MiB.
 */
import { parseArgs } from "node:util";
import { runWrk, totalErrors, wrkVersion } from "./wrk.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "1000000" },
    "close-share": { type: "string", default: "0.2" },
    out: { type: "string", default: new URL("./soak-results.md", import.meta.url).pathname },
  },
});
const target = Number(values.requests);
const closeShare = Number(values["close-share"]);

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
}

function fds(pid: number): number {
  let n = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
  return n;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** The size V8 gives a semi-space under this load by itself, by the end of a run (MiB). */
const SEMI_SPACE_MIB = 16;

const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net",
    "--allow-read",
    // The young generation at its largest from the start: see "Why a fixed young generation".
    `--v8-flags=--min-semi-space-size=${SEMI_SPACE_MIB},--max-semi-space-size=${SEMI_SPACE_MIB}`,
    new URL("./embedded_server.ts", import.meta.url)
      .pathname,
    "sockserve",
    "hello",
  ],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let banner = "";
while (!/READY \d+/.test(banner)) {
  const { value, done } = await lines.read();
  if (done) throw new Error(`server exited before READY: ${banner}`);
  banner += value;
}
const port = Number(/READY (\d+)/.exec(banner)![1]);
const url = `http://127.0.0.1:${port}/`;
const pid = server.pid;

try {
  await (await fetch(url)).text(); // warm-up: lazily created resources are in the baseline
  const baselineFds = fds(pid);
  const rssStart = rssKiB(pid);
  let done = 0;
  let errors = 0;
  let keepAliveRequests = 0;
  let closeRequests = 0;
  let rssAt100k = 0;
  let rssAtHalf = 0;
  let round = 0;
  const started = performance.now();
  while (done < target) {
    // Every fifth round (by default) a new connection per request, the rest keep-alive.
    const fresh = round++ % Math.max(1, Math.round(1 / closeShare)) === 0;
    const result = await runWrk({
      url,
      connections: fresh ? 16 : 64,
      threads: 2,
      seconds: 3,
      timeoutSeconds: 5,
      headers: fresh ? ["Connection: close"] : [],
    });
    done += result.requests;
    errors += totalErrors(result);
    if (fresh) closeRequests += result.requests;
    else keepAliveRequests += result.requests;
    if (rssAt100k === 0 && done >= 100_000) rssAt100k = rssKiB(pid);
    if (rssAtHalf === 0 && done >= target / 2) rssAtHalf = rssKiB(pid);
    console.log(
      `round ${round}: ${fresh ? "new connections" : "keep-alive"} ${result.requests} requests, ` +
        `${totalErrors(result)} errors; total ${done}, RSS ${rssKiB(pid)} KiB`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const quiet = await waitFor(() => fds(pid) <= baselineFds, 15_000);
  const rssEnd = rssKiB(pid);
  const fdsEnd = fds(pid);
  const growth = rssEnd / rssAtHalf - 1;
  const pass = errors === 0 && growth <= 0.05 && quiet;
  const report = `## Soak

Written by \`deno task soak\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC:
sockserve's hello handler (bench/embedded_server.ts) in its own process, its young generation
fixed at ${SEMI_SPACE_MIB} MiB semi-spaces (V8 reaches that size under this load by itself, at a
point of the run that moves with the engine: see bench/soak.ts), driven by
${await wrkVersion()} in 3 s rounds, one round in ${
    Math.round(1 / closeShare)
  } with a new connection per request
(\`Connection: close\`, 16 connections), the others keep-alive (64 connections), 2 threads.

| figure | value |
| --- | --- |
| requests answered | ${done.toLocaleString("en")} (${
    keepAliveRequests.toLocaleString("en")
  } keep-alive, ${closeRequests.toLocaleString("en")} on new connections) |
| duration | ${seconds.toFixed(0)} s (${Math.round(done / seconds).toLocaleString("en")} req/s) |
| failed requests (socket errors + non-2xx) | ${errors} |
| resident memory: start / after 100 000 / half-way / end | ${rssStart} / ${rssAt100k} / ${rssAtHalf} / ${rssEnd} KiB |
| memory growth over the second half | ${(growth * 100).toFixed(1)}% (limit 5%) |
| open descriptors: before / after (quiescent) | ${baselineFds} / ${fdsEnd} |
| result | ${pass ? "pass" : "FAIL"} |
`;
  console.log(report);
  Deno.writeTextFileSync(values.out, `# sockserve soak results\n\n${report}`);
  if (!pass) Deno.exitCode = 1;
} finally {
  server.kill("SIGTERM");
  await server.status;
}
