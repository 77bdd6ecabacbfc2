/**
 * The WebSocket echo load from the harness's side: it starts the client processes
 * (bench/ws_client.ts), lets them all go at once, reads the server's CPU over the measured
 * seconds and adds up what the clients counted.
 */

import type { RunningServer } from "./launch.ts";
import { LineProcess } from "./line_process.ts";
import type { WsLoad } from "./scenarios.ts";
import type { Sample } from "./stats.ts";
import type { WsResult } from "./ws_client.ts";

const CLIENT = new URL("./ws_client.ts", import.meta.url).pathname;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `connections` split as evenly as possible over `processes`. */
export function split(connections: number, processes: number): number[] {
  return Array.from(
    { length: processes },
    (_, i) => Math.floor(connections / processes) + (i < connections % processes ? 1 : 0),
  ).filter((n) => n > 0);
}

export async function measureWs(
  server: RunningServer,
  connections: number,
  load: WsLoad,
  o: { seconds: number; warmupSeconds: number },
): Promise<Sample> {
  const tools = split(connections, load.processes).map((n) =>
    new LineProcess(CLIENT, [
      String(server.port),
      String(n),
      String(load.bytes),
      load.binary ? "binary" : "text",
      String(load.depth),
      String(o.warmupSeconds),
      String(o.seconds),
    ])
  );
  try {
    await Promise.all(tools.map((t) => t.expect("READY", 60_000)));
    await Promise.all(tools.map((t) => t.send("go")));
    await sleep(o.warmupSeconds * 1000);
    const cpu0 = server.cpuSeconds();
    const t0 = performance.now();
    await sleep(o.seconds * 1000);
    const serverCpu = (server.cpuSeconds() - cpu0) / ((performance.now() - t0) / 1000);
    const timeout = (o.seconds + 30) * 1000;
    const results = await Promise.all(
      tools.map(async (t) => JSON.parse(await t.expect("RESULT", timeout)) as WsResult),
    );
    const sum = (f: (r: WsResult) => number) => results.reduce((total, r) => total + f(r), 0);
    const error = results.find((r) => r.firstError)?.firstError;
    return {
      value: sum((r) => r.messages / r.seconds),
      // A client without a single round trip reports its p99 as null (JSON has no NaN).
      p99Ms: Math.max(...results.map((r) => r.p99Ms ?? NaN)),
      errors: sum((r) => r.failed),
      peakKiB: server.peakMemoryKiB(),
      serverCpu,
      clientCpu: sum((r) => r.cpuSeconds / r.seconds),
      note: error && `first error: ${error}`,
    };
  } finally {
    await Promise.all(tools.map((t) => t.stop()));
  }
}
