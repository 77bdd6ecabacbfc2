/**
 * One measured run of one server on one scenario: start a fresh server, put the scenario's load on
 * it (wrk, the idle-connection tool or the WebSocket clients), read its memory and CPU, stop it.
 * bench/run.ts repeats this peer by peer, round by round.
 */

import { measureIdle } from "./idle_load.ts";
import type { Scenario } from "./scenarios.ts";
import type { Peer, RunningServer } from "./servers.ts";
import type { Sample } from "./stats.ts";
import { runWrk, totalErrors } from "./wrk.ts";
import { measureWs } from "./ws_load.ts";

export interface LoadSettings {
  /** Measured seconds per run. */
  seconds: number;
  /** Seconds of the same load before the measured ones (0: none). */
  warmupSeconds: number;
  /** wrk threads, unless the scenario sets its own. */
  threads: number;
}

/** Servers running right now, so that Ctrl-C can stop them before exiting. */
export const running = new Set<RunningServer>();

export async function measure(
  peer: Peer,
  scenario: Scenario,
  staticRoot: string,
  o: LoadSettings,
): Promise<Sample> {
  const scratch = await Deno.makeTempDir({ prefix: "sockserve-bench-" });
  try {
    const idle = scenario.idle && {
      keepAliveSeconds: scenario.idle.keepAliveSeconds,
      connections: scenario.idle.connections,
    };
    const server = await peer.start({ staticRoot, scratch, idle });
    running.add(server);
    try {
      if (scenario.idle) return await measureIdle(server, scenario.idle, scenario.path);
      if (scenario.ws) return await measureWs(server, scenario.connections, scenario.ws, o);
      return await measureWrk(server, scenario, o);
    } finally {
      running.delete(server);
      await server.stop();
    }
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

async function measureWrk(
  server: RunningServer,
  scenario: Scenario,
  o: LoadSettings,
): Promise<Sample> {
  const load = (seconds: number) =>
    runWrk({
      url: `http://127.0.0.1:${server.port}${scenario.path}`,
      connections: scenario.connections,
      threads: scenario.threads ?? o.threads,
      seconds,
      script: scenario.script,
      scriptArgs: scenario.scriptArgs,
      headers: scenario.headers,
      timeoutSeconds: scenario.timeoutSeconds ?? 5,
    });
  // Warm-up lets V8 optimise the hot path; its figures are discarded but its memory counts
  // (the peak is a peak).
  if (o.warmupSeconds > 0) await load(o.warmupSeconds);
  const cpu0 = server.cpuSeconds();
  const r = await load(o.seconds);
  // wrk's own duration is the measured window; the server's CPU is read around the whole run
  // (including wrk's start and its connects), a sliver more than the window.
  const serverCpu = (server.cpuSeconds() - cpu0) / r.seconds;
  return {
    value: scenario.metric === "throughput"
      ? r.bytesRead / r.seconds / 1024 ** 2
      : r.requestsPerSec,
    p99Ms: r.p99Ms,
    errors: totalErrors(r),
    peakKiB: server.peakMemoryKiB(),
    serverCpu,
    clientCpu: r.cpuSeconds / r.seconds,
  };
}
