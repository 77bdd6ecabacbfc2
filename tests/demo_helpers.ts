/**
 * Running `deno task demo` for a test: on free ports (TCP and UDP port 0) and a Unix socket in a
 * temporary directory, with the addresses read from its startup lines.
 */
import { Example } from "./examples_helpers.ts";

export interface RunningDemo extends AsyncDisposable {
  demo: Example;
  /** "http://127.0.0.1:PORT" */
  base: string;
  tcpPort: number;
  udpPort: number;
  unixPath: string;
  dir: string;
}

/** Starts the demo and waits until its three listeners have printed their lines. */
export async function startDemo(extraArgs: string[] = []): Promise<RunningDemo> {
  const dir = await Deno.makeTempDir({ prefix: "sockserve_demo_" });
  const unixPath = `${dir}/demo.sock`;
  const demo = new Example("demo", [
    "--port",
    "0",
    "--udp",
    "0",
    "--unix",
    unixPath,
    ...extraArgs,
  ]);
  try {
    const [, tcp] = await demo.waitFor(/^Listening on http:\/\/127\.0\.0\.1:(\d+)\/ \(demo/);
    const [, udp] = await demo.waitFor(/^Listening on udp:\/\/127\.0\.0\.1:(\d+)\/ \(demo/);
    await demo.waitFor(/^Listening on http\+unix:\/\/[^ ]*demo\.sock\/ \(demo/);
    return {
      demo,
      base: `http://127.0.0.1:${tcp}`,
      tcpPort: Number(tcp),
      udpPort: Number(udp),
      unixPath,
      dir,
      async [Symbol.asyncDispose]() {
        await demo[Symbol.asyncDispose]();
        await Deno.remove(dir, { recursive: true });
      },
    };
  } catch (error) {
    await demo[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
