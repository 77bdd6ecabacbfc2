/**
 * All cores: N Deno Workers, each with its own listener on the same port (SO_REUSEPORT), so the
 * kernel spreads new connections across them. JavaScript runs one thread per isolate; this is how
 * one sockserve process uses a 2-core machine fully (Deno's own `deno serve --parallel` does it
 * the same way).
 *
 * A function cannot cross into a Worker, so the handler comes as a module: its default export is
 * either `{ fetch(request, info) }` (the shape `deno serve` uses) or a factory
 * `(args) => handler`, called in each worker with `args` (which must be structured-cloneable).
 */
import { formatHostPort } from "../listeners.ts";
import type { ServeOptions } from "../options.ts";

/** Options that can cross into a worker: no functions (`onListen` and `signal` stay here). */
export type WorkerServeOptions = Omit<
  ServeOptions,
  "onListen" | "onError" | "signal" | "reusePort" | "path" | "mode"
>;

export interface ServeWorkersOptions extends WorkerServeOptions {
  /** How many workers (listeners) to start; at least 1. */
  workers: number;
  /** The module that provides the handler (see the module comment). */
  module: string | URL;
  /** Passed to a factory default export in every worker. */
  args?: unknown;
  /** Called once every worker listens, with the shared address. */
  onListen?: (addr: Deno.NetAddr) => void;
  signal?: AbortSignal;
}

export interface WorkerPool extends AsyncDisposable {
  readonly addr: Deno.NetAddr;
  readonly workers: number;
  /** Resolves once every worker has shut down. */
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** Messages from a worker (see worker.ts). */
export type WorkerReport =
  | { type: "listening"; addr: Deno.NetAddr }
  | { type: "error"; message: string }
  | { type: "finished" };

/** What a worker is told to start with. */
export interface WorkerStart {
  type: "start";
  module: string;
  args: unknown;
  options: WorkerServeOptions & { reusePort: true };
}

/**
 * Starts `workers` listeners sharing one port. With port 0, the first worker picks the port and
 * the others join it. Rejects if SO_REUSEPORT is unavailable or a worker cannot listen.
 */
export async function serveWorkers(options: ServeWorkersOptions): Promise<WorkerPool> {
  if (Deno.build.os !== "linux") {
    throw new Error(
      `several workers need SO_REUSEPORT load balancing, which Deno offers on Linux only ` +
        `(this is ${Deno.build.os}); run one worker, or one process per port`,
    );
  }
  if (!Number.isInteger(options.workers) || options.workers < 1) {
    throw new RangeError(`workers must be a positive integer, not ${options.workers}`);
  }
  const { workers: count, module, args, onListen, signal, ...serveOptions } = options;
  const moduleUrl = new URL(module, `file://${Deno.cwd()}/`).href;
  const started: StartedWorker[] = [];
  try {
    let port = serveOptions.port ?? 8000;
    for (let i = 0; i < count; i++) {
      const worker = await startWorker(moduleUrl, args, { ...serveOptions, port, reusePort: true });
      started.push(worker);
      port = worker.addr.port;
    }
  } catch (error) {
    await Promise.all(started.map((worker) => worker.stop()));
    throw error;
  }
  const addr = started[0].addr;
  const finished = Promise.all(started.map((worker) => worker.finished)).then(() => {});
  let stopping: Promise<void> | null = null;
  const shutdown = () => stopping ??= Promise.all(started.map((w) => w.stop())).then(() => {});
  signal?.addEventListener("abort", shutdown, { once: true });
  (onListen ?? ((a) => console.log(`Listening on http://${formatHostPort(a.hostname, a.port)}/`)))(
    addr,
  );
  return { addr, workers: count, finished, shutdown, [Symbol.asyncDispose]: shutdown };
}

interface StartedWorker {
  addr: Deno.NetAddr;
  finished: Promise<void>;
  stop(): Promise<void>;
}

function startWorker(
  module: string,
  args: unknown,
  options: WorkerStart["options"],
): Promise<StartedWorker> {
  const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve).then(() => worker.terminate());
  const stop = () => {
    worker.postMessage({ type: "shutdown" });
    return finished;
  };
  return new Promise((resolve, reject) => {
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`worker failed: ${event.message}`));
    };
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      const report = event.data;
      if (report.type === "listening") resolve({ addr: report.addr, finished, stop });
      else if (report.type === "finished") finish();
      else {
        worker.terminate();
        reject(new Error(report.message));
      }
    };
    worker.postMessage({ type: "start", module, args, options } satisfies WorkerStart);
  });
}
