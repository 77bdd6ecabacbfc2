/**
 * The idle-connections load (scenario `idle-10k`) from the harness's side: it drives
 * bench/idle_client.ts through its steps and reads the server's resident memory while the
 * connections sit idle. The figure is the growth between the first reading (`first` connections
 * open) and the second (all of them), divided by the connections opened in between.
 */

import type { IdleReport } from "./idle_client.ts";
import type { RunningServer } from "./launch.ts";
import { LineProcess } from "./line_process.ts";
import type { IdleLoad } from "./scenarios.ts";
import type { Sample } from "./stats.ts";

const CLIENT = new URL("./idle_client.ts", import.meta.url).pathname;
/** Generous bounds for each step: opening 10,000 connections takes about a second here. */
const STEP_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function measureIdle(
  server: RunningServer,
  load: IdleLoad,
  path: string,
): Promise<Sample> {
  const tool = new LineProcess(CLIENT, [
    String(server.port),
    path,
    String(load.connections),
    String(load.first),
    String(load.sample),
  ]);
  try {
    const step = JSON.parse(await tool.expect("STEP", STEP_TIMEOUT_MS)) as IdleReport;
    await sleep(load.settleSeconds * 1000);
    const firstKiB = server.memoryKiB();
    await tool.send("go");
    const idle = JSON.parse(await tool.expect("IDLE", STEP_TIMEOUT_MS)) as IdleReport;
    await sleep(load.settleSeconds * 1000);
    const allKiB = server.memoryKiB();
    await tool.send("go");
    const done = JSON.parse(await tool.expect("DONE", STEP_TIMEOUT_MS)) as IdleReport;
    const opened = idle.open - step.open;
    const sampled = Math.min(load.sample, idle.open);
    const error = idle.firstError ?? done.firstError;
    return {
      value: opened > 0 ? (allKiB - firstKiB) / opened : NaN,
      p99Ms: done.p99Ms ?? NaN,
      errors: (load.connections - idle.open) + (sampled - done.open),
      peakKiB: server.peakMemoryKiB(),
      serverCpu: NaN,
      clientCpu: NaN,
      note: error && `first unanswered request: ${error}`,
    };
  } finally {
    await tool.stop();
  }
}
