/**
 * One embedded server for the benchmark:
 * `deno run … embedded_server.ts ENGINE APP [ROOT] [--keep-alive S] [--max-connections N]`.
 *
 * ENGINE is `sockserve` (serve from ../mod.ts), `sockserve-w2` (serveWorkers with 2 workers, hello
 * only) or `deno` (Deno.serve); APP is `hello` (bench/handlers/hello.ts), `files` (sockserve's
 * fileServer over ROOT) or `static` (bench/handlers/static.ts over ROOT, the minimal Deno file
 * server). One entry point for the engines means the handler, the flags and the startup are the
 * same code: the engine is the only variable. It prints `READY <port>` once listening, which
 * bench/servers.ts waits for.
 *
 * `--keep-alive` and `--max-connections` raise sockserve's idle timeout and connection cap for
 * the scenarios that hold thousands of idle connections; Deno.serve has neither setting.
 */

import { parseArgs } from "node:util";
import { handler as hello } from "./handlers/hello.ts";
import { staticHandler } from "./handlers/static.ts";

// Neither engine's info argument: the hello handler ignores it and fileServer is typed against
// sockserve's, so this is the shape both `serve` and `Deno.serve` accept.
type Handler = (request: Request) => Response | Promise<Response>;

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    "keep-alive": { type: "string" },
    "max-connections": { type: "string" },
  },
});
const [engine, app = "hello", root] = positionals;

async function pickHandler(): Promise<Handler> {
  if (app === "hello") return hello;
  if (app === "static" && root) return staticHandler(root);
  if (app === "files" && root) {
    // Loaded only when asked for, so the hello-world peers run before fileServer exists.
    const mod = await import("../mod.ts") as Record<string, unknown>;
    const fileServer = mod.fileServer as ((root: string) => Handler) | undefined;
    if (typeof fileServer !== "function") throw new Error("mod.ts does not export fileServer");
    return fileServer(root);
  }
  throw new Error(`unknown app ${app} (expected hello, files ROOT or static ROOT)`);
}

const onListen = (addr: Deno.Addr) => console.log(`READY ${(addr as Deno.NetAddr).port}`);
const handler = await pickHandler();
const limits: Record<string, number> = {};
if (values["keep-alive"]) limits.keepAliveTimeout = Number(values["keep-alive"]) * 1000;
if (values["max-connections"]) limits.maxConnections = Number(values["max-connections"]);

if (engine === "deno") {
  Deno.serve({ hostname: "127.0.0.1", port: 0, onListen }, handler);
} else if (engine === "sockserve") {
  // Dynamic for the same reason: the Deno.serve peer must not depend on the engine under test.
  const { serve } = await import("../mod.ts");
  serve({ hostname: "127.0.0.1", port: 0, onListen, limits }, handler);
} else if (engine === "sockserve-w2" && app === "hello") {
  const { serveWorkers } = await import("../mod.ts");
  await serveWorkers({
    workers: 2,
    module: new URL("./handlers/hello_module.ts", import.meta.url),
    hostname: "127.0.0.1",
    port: 0,
    limits,
    onListen,
  });
} else {
  console.error(`usage: embedded_server.ts sockserve|sockserve-w2|deno hello|files|static [ROOT]`);
  Deno.exit(2);
}

// Ctrl-C exits through Deno.exit rather than the default signal death, so that a server started
// by hand with --cpu-prof writes its profile (see bench/README.md, Profiling). The benchmark
// stops servers with SIGTERM, which keeps its default.
Deno.addSignalListener("SIGINT", () => Deno.exit(0));
