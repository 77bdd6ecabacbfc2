/**
 * One embedded server for the benchmark: `deno run … embedded_server.ts ENGINE APP [ROOT]`.
 *
 * ENGINE is `sockserve` (serve from ../mod.ts) or `deno` (Deno.serve); APP is `hello`
 * (bench/handlers/hello.ts) or `files` (sockserve's fileServer over ROOT). One entry point for
 * both engines means the handler, the flags and the startup are the same code: the engine is the
 * only variable. It prints `READY <port>` once listening, which bench/servers.ts waits for.
 */

import { handler as hello } from "./handlers/hello.ts";

// Neither engine's info argument: the hello handler ignores it and fileServer is typed against
// sockserve's, so this is the shape both `serve` and `Deno.serve` accept.
type Handler = (request: Request) => Response | Promise<Response>;

const [engine, app = "hello", root] = Deno.args;

async function pickHandler(): Promise<Handler> {
  if (app === "hello") return hello;
  if (app === "files" && root) {
    // Loaded only when asked for, so the hello-world peers run before fileServer exists.
    const mod = await import("../mod.ts") as Record<string, unknown>;
    const fileServer = mod.fileServer as ((root: string) => Handler) | undefined;
    if (typeof fileServer !== "function") throw new Error("mod.ts does not export fileServer");
    return fileServer(root);
  }
  throw new Error(`unknown app ${app} (expected hello, or files ROOT)`);
}

const onListen = (addr: Deno.Addr) => console.log(`READY ${(addr as Deno.NetAddr).port}`);
const handler = await pickHandler();

if (engine === "deno") {
  Deno.serve({ hostname: "127.0.0.1", port: 0, onListen }, handler);
} else if (engine === "sockserve") {
  // Dynamic for the same reason: the Deno.serve peer must not depend on the engine under test.
  const { serve } = await import("../mod.ts");
  serve({ hostname: "127.0.0.1", port: 0, onListen }, handler);
} else {
  console.error(`usage: embedded_server.ts sockserve|deno hello|files [ROOT]`);
  Deno.exit(2);
}

// Ctrl-C exits through Deno.exit rather than the default signal death, so that a server started
// by hand with --cpu-prof writes its profile (see bench/README.md, Profiling). The benchmark
// stops servers with SIGTERM, which keeps its default.
Deno.addSignalListener("SIGINT", () => Deno.exit(0));
