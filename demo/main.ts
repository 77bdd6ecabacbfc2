/**
 * `deno task demo [ROOT] [flags]`: the lecture's demo daemon. One process serves the home page
 * (www/) and its small API over TCP, a Unix socket and UDP at once:
 *
 *   GET  /api/hello    "Hello there!"
 *   POST /api/upper    the body, upper-cased
 *   GET  /api/events   Server-Sent Events: live statistics of all three servers, once a second
 *   GET  /api/ws       a WebSocket chat: each message goes to every open socket
 *
 * and the repository's src/ and examples/ read-only at /src/ and /examples/, so that the page's
 * links to the source files work. The flags are `deno task serve`'s (parsed by src/cli.ts);
 * the demo differs only in its defaults: it always listens on a Unix socket (`example.sock`
 * unless --unix says otherwise) and on UDP (port 8000 unless --udp says otherwise).
 *
 * Ctrl-C (SIGINT) or SIGTERM: stop accepting, end the event streams (they would otherwise keep
 * their connections busy until the grace period runs out), let requests in flight finish,
 * remove the Unix socket file, exit 0.
 *
 * @module
 */
import { fail, parseCliOrExit } from "../src/cli/main.ts";
import { describeError } from "../src/cli/os_error.ts";
import { listenerUrl } from "../src/listeners.ts";
import { FORMATTERS, stdoutLines, withAccessLog } from "../src/cli/access_log.ts";
import type { HttpServer, ServeHandler, ServeHandlerInfo } from "../src/options.ts";
import { serve } from "../src/server.ts";
import { fileServer } from "../src/static/mod.ts";
import { type Api, apiResponse } from "./api.ts";
import { ChatRoom } from "./chat.ts";
import { EventStreams } from "./events.ts";
import { mount } from "./mount.ts";
import { type Sources, StatsSampler } from "./stats.ts";
import { serveUdp, type UdpServer } from "./udp.ts";

export const DEMO_HELP = `Usage: deno task demo [ROOT] [flags]

Serves ROOT (default: www) with the demo API (/api/hello, /api/upper, /api/events, and the
WebSocket chat /api/ws) over TCP, a Unix socket and UDP at once, and the repository's src/ and
examples/ at /src/ and /examples/.

Flags (those of deno task serve; see its --help for the file-serving ones):
  --port N       TCP port; 0 picks a free one (default: 8000)
  --host H       address to bind for TCP and UDP (default: 127.0.0.1)
  --unix PATH    Unix socket path (default: example.sock)
  --udp PORT     UDP port; 0 picks a free one (default: 8000)
  --log FORMAT   access log: common | combined | json | off (default: common)
  -h, --help     show this help and exit
`;

const DEFAULT_UNIX_PATH = "example.sock";
const DEFAULT_UDP_PORT = 8000;
const REPO = new URL("../", import.meta.url);

/** The whole site: the API first, then the source mounts, then the files of ROOT. */
export function demoHandler(api: Api, root: string, files: Parameters<typeof fileServer>[1]) {
  const site = fileServer(root, files);
  const src = mount("/src", new URL("src", REPO).pathname, files);
  const examples = mount("/examples", new URL("examples", REPO).pathname, files);
  return (request: Request, info: ServeHandlerInfo): Promise<Response> | Response =>
    apiResponse(request, info, api) ?? src(request) ?? examples(request) ?? site(request);
}

export async function main(args: string[]): Promise<void> {
  const config = parseCliOrExit(args, DEMO_HELP);
  if (config === null) return;
  const tcpSpec = config.listeners.find((spec) => spec.kind === "tcp");
  if (tcpSpec?.kind !== "tcp") throw new Error("parseCli gave no TCP listener");
  if (tcpSpec.certFile !== undefined) {
    fail("the demo serves plain HTTP: --cert is not supported", 2);
  }
  if (config.workers !== 1) fail("the demo runs in one process: --workers is not supported", 2);
  const unixSpec = config.listeners.find((spec) => spec.kind === "unix");
  const unixPath = unixSpec?.kind === "unix" ? unixSpec.path : DEFAULT_UNIX_PATH;
  const udpPort = config.udpPort ?? DEFAULT_UDP_PORT;

  const sources: Sources = { tcp: null, unix: null, udp: null };
  const api: Api = {
    events: new EventStreams(),
    sampler: new StatsSampler(sources),
    chat: new ChatRoom(),
  };
  let handler: ServeHandler;
  try {
    handler = demoHandler(api, config.root, config.files);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : describeError(error);
    fail(`root "${config.root}": ${reason}`, 1);
  }
  const write = stdoutLines.write;
  if (config.log !== "off") handler = withAccessLog(handler, FORMATTERS[config.log], write);
  const root = config.root.replace(/(.)\/+$/, "$1");
  const onListen = (scheme: string) => (addr: Deno.Addr) =>
    write(`Listening on ${listenerUrl(addr, scheme)} (demo, root: ${root})`);

  const servers: (HttpServer | UdpServer)[] = [];
  let binding = `${tcpSpec.hostname}:${tcpSpec.port}`;
  try {
    const { hostname, port } = tcpSpec;
    const tcp = serve({ hostname, port, handler, onListen: onListen("http") });
    servers.push(sources.tcp = tcp);
    binding = unixPath;
    const unix = serve({ path: unixPath, handler, onListen: onListen("http") });
    servers.push(sources.unix = unix);
    binding = `UDP ${tcpSpec.hostname}:${udpPort}`;
    const udp = serveUdp(
      { hostname: tcpSpec.hostname, port: udpPort, onListen: onListen("udp") },
      handler,
    );
    servers.push(sources.udp = udp);
  } catch (error) {
    await Promise.all(servers.map((server) => server.shutdown()));
    fail(`cannot listen on ${binding}: ${describeError(error)}`, 1);
  }

  const broadcast = () => api.events.broadcast(JSON.stringify(api.sampler.tick()));
  api.sampler.tick(); // the first window starts now
  const ticker = setInterval(broadcast, 1000);

  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    stdoutLines.flush();
    if (stopping) Deno.exit(1); // a second Ctrl-C: do not wait
    stopping = true;
    clearInterval(ticker);
    const streams = api.events.size;
    // Stop accepting first, then end the streams: a stream opened in between is born ended.
    const done = Promise.all(servers.map((server) => server.shutdown()));
    api.events.closeAll();
    await done; // closing the Unix listener removed its socket file
    write(`${signal}: ended ${streams} event stream(s), removed ${unixPath}, bye`);
    stdoutLines.flush();
    Deno.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
}

if (import.meta.main) await main(Deno.args);
