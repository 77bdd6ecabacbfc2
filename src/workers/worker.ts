/**
 * The body of one worker started by pool.ts: import the handler module, listen with
 * SO_REUSEPORT, report the address, and shut down when told.
 */
/// <reference lib="deno.worker" />
import { stdoutLines } from "../cli/access_log.ts";
import { serve } from "../server.ts";
import type { HttpServer, ServeHandler } from "../options.ts";
import type { WorkerReport, WorkerStart } from "./pool.ts";

let server: HttpServer | null = null;

function report(message: WorkerReport): void {
  self.postMessage(message);
}

/** The handler a module offers: `default.fetch`, or a factory `default(args)`. */
async function loadHandler(module: string, args: unknown): Promise<ServeHandler> {
  const exported = (await import(module)).default;
  if (typeof exported?.fetch === "function") return exported.fetch.bind(exported);
  if (typeof exported === "function") {
    const handler = await exported(args);
    if (typeof handler === "function") return handler;
  }
  throw new TypeError(
    `${module} must export default { fetch(request, info) } or a factory (args) => handler`,
  );
}

self.onmessage = async (event: MessageEvent<WorkerStart | { type: "shutdown" }>) => {
  const message = event.data;
  if (message.type === "shutdown") {
    if (server) await server.shutdown();
    // The access log's last lines, gathered for a write to come: the worker is terminated next.
    stdoutLines.flush();
    report({ type: "finished" });
    return;
  }
  try {
    const handler = await loadHandler(message.module, message.args);
    server = serve({
      ...message.options,
      onListen: (addr) => report({ type: "listening", addr: addr as Deno.NetAddr }),
    }, handler);
  } catch (error) {
    report({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
