/**
 * `deno run --allow-read bench/engine_ab.ts [--depth N] [--rounds N] DIR [DIR…]`: the engine's cost
 * of a request with no socket and no kernel, for one or more checkouts of this repository (git
 * worktrees of the commits to compare), in one process.
 *
 * Each checkout's `Connection` serves the hello handler over a fake connection: every read hands
 * it a batch of DEPTH requests at once (16, as the pipeline scenario; 1, as keep-alive), every
 * write completes at once. The checkouts take turns, round after round, so that the machine's
 * drifts of speed (30–50% within minutes on these machines, see bench/README.md) fall on
 * all of them alike; each prints its fastest and median microseconds a request.
 *
 * With `--heap` (and `--allow-sys`, for `node:inspector`), V8's sampling heap profiler counts
 * instead the bytes each function allocates a request, for the first checkout: what the young
 * generation fills with.
 */
import { Session } from "node:inspector";
import { parseArgs } from "node:util";
import { handler } from "./handlers/hello.ts";

/** The parts of a checkout's engine this needs. */
export interface Engine {
  dir: string;
  // deno-lint-ignore no-explicit-any
  Connection: any;
  // deno-lint-ignore no-explicit-any
  DeadlineTicker: any;
  limits: object;
  onError: (error: unknown) => Response;
}

export async function loadEngine(dir: string): Promise<Engine> {
  const base = new URL(`${dir.replace(/\/$/, "")}/src/`, `file://${Deno.cwd()}/`);
  // A checkout has the flat layout (src/conn.ts) or the folders (src/conn/connection.ts).
  const load = async (...paths: string[]) => {
    for (const path of paths) {
      const url = new URL(path, base);
      if (await exists(url)) return await import(url.href);
    }
    throw new Error(`${dir}: none of ${paths.join(", ")} in src/`);
  };
  const conn = await load("conn/connection.ts", "conn.ts");
  const deadlines = await load("conn/deadlines.ts", "conn/connection.ts", "conn.ts");
  const options = await load("options.ts");
  const dispatch = await load("handler/dispatch.ts", "dispatch.ts");
  return {
    dir,
    Connection: conn.Connection,
    DeadlineTicker: deadlines.DeadlineTicker,
    limits: options.DEFAULT_LIMITS,
    onError: dispatch.defaultOnError,
  };
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

/**
 * A connection that delivers `batch` `reads` times, then the end of the stream. A read gives the
 * rest of the current batch, or as much of it as the read has room for, as a socket would (an
 * engine's first wait is in a small buffer).
 */
export function fakeConnection(batch: Uint8Array, reads: number) {
  let left = reads;
  /** Where the rest of the current batch starts; `batch.length` once it is all delivered. */
  let at = batch.length;
  return {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } as Deno.NetAddr,
    read(into: Uint8Array): Promise<number | null> {
      if (at === batch.length) {
        if (left-- <= 0) return Promise.resolve(null);
        at = 0;
      }
      if (at === 0 && into.length >= batch.length) {
        into.set(batch);
        at = batch.length;
        return Promise.resolve(batch.length);
      }
      const n = Math.min(into.length, batch.length - at);
      into.set(batch.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    write: (bytes: Uint8Array) => Promise.resolve(bytes.length),
    close() {},
    setNoDelay() {},
  };
}

/**
 * Serves `reads` batches of `depth` requests through `engine`; returns µs a request. Throws if
 * the engine answered fewer requests than it was sent: a timing of less work is no timing.
 */
export async function serveBatches(engine: Engine, depth: number, reads: number): Promise<number> {
  const batch = new TextEncoder().encode(
    "GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n".repeat(depth),
  );
  let answered = 0;
  const ctx = {
    handler: (request: Request) => {
      answered++;
      return handler(request);
    },
    direct: null,
    onError: engine.onError,
    limits: engine.limits,
    scheme: "http",
    defaultHost: "127.0.0.1:8000",
    proxyProtocol: null,
    deadlines: new engine.DeadlineTicker(engine.limits),
  };
  const conn = fakeConnection(batch, reads);
  const connection = new engine.Connection(
    conn,
    { remoteAddr: conn.remoteAddr, transport: "tcp" },
    ctx,
  );
  const start = performance.now();
  await connection.serve();
  const us = (performance.now() - start) * 1000 / answered;
  if (answered !== depth * reads) {
    throw new Error(`${engine.dir} answered ${answered} of ${depth * reads} requests`);
  }
  return us;
}

/** Bytes allocated a request by each function, from V8's sampling heap profiler. */
async function heapProfile(engine: Engine, depth: number, reads: number): Promise<void> {
  const session = new Session();
  session.connect();
  const post = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) =>
      session.post(method, params, (error, result) => error ? reject(error) : resolve(result as T))
    );
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await serveBatches(engine, depth, reads);
  interface Node {
    selfSize: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children: Node[];
  }
  const { profile } = await post<{ profile: { head: Node } }>("HeapProfiler.stopSampling");
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (node: Node) => {
    const frame = node.callFrame;
    const name = `${frame.functionName || "(anonymous)"} ${frame.url.split("/").pop()}:${
      frame.lineNumber + 1
    }`;
    bytes.set(name, (bytes.get(name) ?? 0) + node.selfSize);
    total += node.selfSize;
    node.children.forEach(walk);
  };
  walk(profile.head);
  const requests = depth * reads;
  console.log(`${engine.dir}: ${Math.round(total / requests)} bytes allocated a request`);
  for (const [name, size] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    if (size > 0) console.log(`${String(Math.round(size / requests)).padStart(6)}  ${name}`);
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      heap: { type: "boolean", default: false },
      depth: { type: "string", default: "16" },
      rounds: { type: "string", default: "15" },
    },
  });
  if (positionals.length === 0) {
    console.error("usage: bench/engine_ab.ts [--heap] [--depth N] [--rounds N] DIR [DIR…]");
    console.error("e.g.   git worktree add /tmp/before HEAD~1; bench/engine_ab.ts /tmp/before .");
    Deno.exit(2);
  }
  const depth = Number(values.depth);
  const reads = Math.ceil(48_000 / depth);
  const engines = await Promise.all(positionals.map(loadEngine));
  // Warm-up: V8 optimises each engine's code before anything is timed.
  for (const engine of engines) {
    for (let i = 0; i < 4; i++) await serveBatches(engine, depth, reads);
  }
  if (values.heap) {
    await heapProfile(engines[0], depth, reads);
  } else {
    const times = new Map(engines.map((engine) => [engine, [] as number[]]));
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const engine of engines) {
        times.get(engine)!.push(await serveBatches(engine, depth, reads));
      }
    }
    for (const [engine, list] of times) {
      list.sort((a, b) => a - b);
      const median = list[Math.floor(list.length / 2)];
      console.log(
        `${engine.dir}: ${list[0].toFixed(3)} µs a request at best, ${median.toFixed(3)} median`,
      );
    }
  }
}
