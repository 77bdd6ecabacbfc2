/**
 * `deno task serve [ROOT] [flags]`: the static file server's command line. Flags become options,
 * each listener prints one startup line, SIGINT/SIGTERM shut down gracefully with exit code 0.
 * Mistakes (a bad flag, a missing root, a busy port) print one line on stderr and exit non-zero:
 * 2 for usage errors, 1 for everything else, never a stack trace.
 */
import { serve } from "../server.ts";
import { formatHostPort, listenerUrl } from "../listeners.ts";
import { serveDatagram } from "../datagram/server.ts";
import type { ServeOptions } from "../options.ts";
import { stdoutLines } from "./access_log.ts";
import { type CliServer, cliServer } from "./handler.ts";
import { DevUsageError } from "./dev_flags.ts";
import {
  bindWithFallback,
  isWildcard,
  networkInterfaces,
  reachableUrls,
  resolveFrom,
  startDirectory,
} from "./startup.ts";
import { serveWorkers } from "../workers/pool.ts";

import {
  type CliConfig,
  type DeployOptions,
  displayRoot,
  HELP,
  type ListenerSpec,
  parseCli,
  UsageError,
} from "./args.ts";
import { describeError } from "./os_error.ts";

function listenOptions(spec: ListenerSpec, deploy: DeployOptions): ServeOptions {
  if (spec.kind === "unix") return { path: spec.path, ...deploy };
  const options: ServeOptions = { hostname: spec.hostname, port: spec.port, ...deploy };
  if (spec.certFile !== undefined && spec.keyFile !== undefined) {
    options.cert = readFlagFile("cert", spec.certFile);
    options.key = readFlagFile("key", spec.keyFile);
  }
  return options;
}

function readFlagFile(flag: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(`cannot read --${flag} ${path}: ${describeError(error)}`);
  }
}

function describeListener(spec: ListenerSpec): string {
  return spec.kind === "unix" ? spec.path : `${spec.hostname}:${spec.port}`;
}

/** One line on stderr, then exit: how every command-line mistake ends. */
export function fail(message: string, code: number): never {
  stdoutLines.flush();
  console.error(`error: ${message}`);
  Deno.exit(code);
}

/** Something that can be stopped gracefully: a server or a pool of workers. */
interface Stoppable {
  shutdown(): Promise<void>;
}

/**
 * Parses the arguments; a mistake exits with one line and code 2. Null when `--help` was asked
 * for (and `help` has been printed).
 */
export function parseCliOrExit(args: string[], help: string): CliConfig | null {
  let config: CliConfig | null;
  try {
    config = parseCli(args);
  } catch (error) {
    if (error instanceof UsageError) fail(`${error.message} (see --help)`, 2);
    if (error instanceof DevUsageError) fail(error.message, 2);
    throw error;
  }
  if (config === null) console.log(help);
  return config;
}

/** Runs the server until SIGINT or SIGTERM. */
export async function main(args: string[]): Promise<void> {
  const parsed = parseCliOrExit(args, HELP);
  if (parsed === null) return;
  const root = displayRoot(parsed.root);
  const config = resolvePaths(parsed, startDirectory());
  let served: CliServer;
  try {
    served = cliServer({
      root: config.root,
      files: config.files,
      log: config.log,
      dev: config.dev,
    });
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : describeError(error);
    fail(`root "${root}": ${reason}`, 1);
  }
  const handler = served.handler;
  const workers = config.workers;
  const running: Stoppable[] = [{ shutdown: served.close }];
  for (const spec of config.listeners) {
    const options = listenOptionsOrFail(spec, config.deploy);
    const scheme = options.cert ? "https" : "http";
    const onListen = (addr: Deno.Addr) => {
      stdoutLines.write(
        `Listening on ${listenerUrl(addr, scheme)} (root: ${root}` +
          (spec.kind === "tcp" && workers > 1 ? `, ${workers} workers)` : ")"),
      );
      if (spec.kind === "tcp" && isWildcard(spec.hostname) && "port" in addr) {
        const urls = reachableUrls(scheme, spec.hostname, addr.port, networkInterfaces());
        for (const line of urls) stdoutLines.write(line);
      }
    };
    const start = async (port: number) => {
      if (spec.kind === "tcp" && workers > 1) {
        // Unix sockets cannot share a path the way SO_REUSEPORT shares a port: they stay here.
        running.push(
          await serveWorkers({
            ...options,
            port,
            workers,
            module: new URL("./handler.ts", import.meta.url),
            args: { root: config.root, files: config.files, log: config.log, dev: config.dev },
            onListen,
          }),
        );
      } else {
        const listening = Promise.withResolvers<void>();
        const server = serve({
          ...options,
          ...(spec.kind === "tcp" ? { port } : {}),
          handler,
          onListen(addr) {
            onListen(addr);
            listening.resolve();
          },
        });
        running.push(server);
        // A Unix path may be probed before it is bound: its failure arrives through `finished`.
        await Promise.race([server.finished, listening.promise]);
      }
    };
    try {
      if (spec.kind === "unix") await start(0);
      else {
        await bindWithFallback(
          spec.port,
          spec.fallback ?? false,
          start,
          (taken, next) => stdoutLines.write(`Port ${taken} is in use, trying ${next}`),
        );
      }
    } catch (error) {
      await Promise.all(running.map((server) => server.shutdown()));
      fail(`cannot listen on ${describeListener(spec)}: ${describeError(error)}`, 1);
    }
  }
  if (config.udpPort !== null) {
    // HTTP over UDP on the TCP listener's address; with --workers it stays in this process.
    const tcp = config.listeners.find((spec) => spec.kind === "tcp");
    const hostname = tcp?.kind === "tcp" ? tcp.hostname : "127.0.0.1";
    try {
      running.push(serveDatagram({
        transport: "udp",
        hostname,
        port: config.udpPort,
        onListen: (addr) =>
          stdoutLines.write(
            `Listening on ${listenerUrl(addr, "udp")} (HTTP over UDP, root: ${root})`,
          ),
      }, handler));
    } catch (error) {
      await Promise.all(running.map((server) => server.shutdown()));
      fail(
        `cannot listen on udp ${formatHostPort(hostname, config.udpPort)}: ${describeError(error)}`,
        1,
      );
    }
  }
  handleSignals(running);
}

/** The config with its relative paths read from `startDir` (where the command was started). */
function resolvePaths(config: CliConfig, startDir: string): CliConfig {
  const listeners = config.listeners.map((spec): ListenerSpec =>
    spec.kind === "unix" ? { ...spec, path: resolveFrom(startDir, spec.path) } : {
      ...spec,
      certFile: spec.certFile === undefined ? undefined : resolveFrom(startDir, spec.certFile),
      keyFile: spec.keyFile === undefined ? undefined : resolveFrom(startDir, spec.keyFile),
    }
  );
  return { ...config, root: resolveFrom(startDir, config.root), listeners };
}

function listenOptionsOrFail(spec: ListenerSpec, deploy: DeployOptions): ServeOptions {
  try {
    return listenOptions(spec, deploy);
  } catch (error) {
    fail(describeError(error), 1);
  }
}

/**
 * First signal: stop accepting, let in-flight requests finish (the server's bounded grace
 * period), exit 0. A second signal while waiting exits at once.
 */
function handleSignals(servers: Stoppable[]): void {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let stopping = false;
  const stop = async () => {
    stdoutLines.flush();
    if (stopping) Deno.exit(1);
    stopping = true;
    await Promise.all(servers.map((server) => server.shutdown()));
    stdoutLines.flush(); // the access log's last lines
    Deno.exit(0);
  };
  for (const signal of signals) Deno.addSignalListener(signal, stop);
}

if (import.meta.main) await main(Deno.args);
