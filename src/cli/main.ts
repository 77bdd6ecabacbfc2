/**
 * `deno task serve [ROOT] [flags]`: the static file server's command line. Flags become options,
 * each listener prints one startup line, SIGINT/SIGTERM shut down gracefully with exit code 0.
 * Mistakes (a bad flag, a missing root, a busy port) print one line on stderr and exit non-zero:
 * 2 for usage errors, 1 for everything else, never a stack trace.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { serve } from "../server.ts";
import { formatHostPort, listenerUrl } from "../listeners.ts";
import { serveDatagram } from "../datagram/server.ts";
import type { ServeOptions } from "../options.ts";
import { CidrList } from "../balancer/ip.ts";
import type { DotfilesPolicy, FileServerOptions } from "../static/mod.ts";
import { LOG_FORMATS, type LogFormat, stdoutLines } from "./access_log.ts";
import { type CliServer, cliServer } from "./handler.ts";
import type { DevOptions } from "./dev_handler.ts";
import type { FileConfig } from "./config.ts";
import { configFile, DEV_FLAGS, DEV_HELP, devOptions, DevUsageError } from "./dev_flags.ts";
import {
  bindWithFallback,
  DEFAULT_PORT,
  isWildcard,
  networkInterfaces,
  reachableUrls,
  resolveFrom,
  startDirectory,
} from "./startup.ts";
import { serveWorkers } from "../workers/pool.ts";

export const HELP = `Usage: deno task serve [ROOT] [flags]

Serves the files below ROOT (default: www) over HTTP/1.1. A relative ROOT (and any other
relative path) is read from the directory the command was started in.

Flags:
  --port N              TCP port; 0 picks a free one (default: 8000, or the next free one
                        up to 8010 when 8000 is taken)
  --host H              address to bind; 0.0.0.0 or :: for all (default: 127.0.0.1)
  --unix PATH           also listen on a Unix domain socket at PATH
  --udp PORT            also answer HTTP over UDP on PORT
  --cert FILE           PEM certificate chain: serve HTTPS (needs --key)
  --key FILE            PEM private key for --cert
  --workers N           N workers sharing the port (SO_REUSEPORT) (default: 1)
  --cors                allow cross-origin reads (Access-Control-Allow-Origin: *)
  --no-dir-listing      answer 404 for directories without index.html (default: listings on)
  --dotfiles POLICY     allow | deny (403) | ignore (404) names starting with "." (default: ignore)
  --follow-symlinks     follow symlinks that lead outside ROOT (default: they are 404)
  --spa                 answer unknown paths asked for as HTML with /index.html
  --cache-control V     Cache-Control header for files (default: none)
  --header 'N: V'       add a header to every response (repeatable)
  --no-compress         no gzip/brotli, neither precompressed nor on the fly (default: on)
  --log FORMAT          access log on stdout: common | combined | json | off (default: common)
  --trust-proxy CIDR    believe forwarding headers from these proxies (repeatable, or
                        comma-separated; default: none, the headers are ignored)
  --forwarded-headers F x-forwarded | forwarded (RFC 7239): which family the proxies write
                        (default: x-forwarded)
  --proxy-protocol      each connection starts with a PROXY protocol v1/v2 header (HAProxy
                        send-proxy, TCP and Unix listeners); from --trust-proxy peers only,
                        if given, else from every peer (default: off)
  --health PATH         answer PATH with 200, and 503 once shutdown begins (default: none)
  --drain-delay MS      on SIGTERM, serve on this long (health 503) before closing the
                        listener (default: 5000 with --health, else 0)

${DEV_HELP}
  -h, --help            show this help and exit
`;

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Where to listen. A list, so each listener gets its own startup line. */
export type ListenerSpec =
  | {
    kind: "tcp";
    hostname: string;
    port: number;
    certFile?: string;
    keyFile?: string;
    /** No port was asked for: a taken 8000 moves on to the next free port, up to 8010. */
    fallback?: boolean;
  }
  | { kind: "unix"; path: string };

export interface CliConfig {
  root: string;
  listeners: ListenerSpec[];
  udpPort: number | null;
  workers: number;
  log: LogFormat;
  files: FileServerOptions;
  /** Behind a load balancer: PROXY protocol, forwarding headers, health check, drain delay. */
  deploy: DeployOptions;
  /** The development server: live reload, proxy, the config file's rules. */
  dev: DevOptions;
}

export type DeployOptions = Pick<
  ServeOptions,
  "proxyProtocol" | "trustProxy" | "health" | "drainDelay"
>;

const OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  unix: { type: "string" },
  udp: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  workers: { type: "string", default: "1" },
  cors: { type: "boolean" },
  "no-dir-listing": { type: "boolean", default: false },
  dotfiles: { type: "string", default: "ignore" },
  "follow-symlinks": { type: "boolean", default: false },
  spa: { type: "boolean" },
  "cache-control": { type: "string" },
  header: { type: "string", multiple: true },
  "no-compress": { type: "boolean", default: false },
  log: { type: "string", default: "common" },
  "trust-proxy": { type: "string", multiple: true },
  "forwarded-headers": { type: "string", default: "x-forwarded" },
  "proxy-protocol": { type: "boolean", default: false },
  health: { type: "string" },
  "drain-delay": { type: "string" },
  ...DEV_FLAGS,
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsOptionsConfig;

/**
 * Parses the arguments, and the config file they name (or `sockserve.json` in `startDir`, the
 * directory the command was started in); null means `--help` was asked for. Throws UsageError.
 */
export function parseCli(args: string[], startDir: string = startDirectory()): CliConfig | null {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node's messages run on with advice over several lines; the first sentence is the point.
    throw new UsageError(String((error as Error).message).split(/\.?\n|\. /)[0]);
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  if (positionals.length > 1) throw new UsageError(`expected one ROOT, got ${positionals.length}`);
  if (values.config !== undefined && values["no-config"]) {
    throw new UsageError("--config and --no-config contradict");
  }
  const file = configFile(values, startDir);
  if (!(LOG_FORMATS as readonly string[]).includes(values.log)) {
    throw new UsageError(`--log must be one of ${LOG_FORMATS.join(", ")}, not "${values.log}"`);
  }
  if (!["allow", "deny", "ignore"].includes(values.dotfiles)) {
    throw new UsageError(`--dotfiles must be allow, deny or ignore, not "${values.dotfiles}"`);
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    throw new UsageError("--cert and --key go together");
  }
  const tcp: ListenerSpec = {
    kind: "tcp",
    hostname: values.host ?? file.host ?? "127.0.0.1",
    port: values.port === undefined
      ? file.port ?? DEFAULT_PORT
      : integerFlag("port", values.port, 0, 65535),
    certFile: values.cert,
    keyFile: values.key,
    fallback: values.port === undefined && file.port === undefined,
  };
  if (values["proxy-protocol"] && values.cert !== undefined) {
    throw new UsageError("--proxy-protocol cannot go with --cert: the header comes before TLS");
  }
  const listeners: ListenerSpec[] = [tcp];
  if (values.unix !== undefined) listeners.push({ kind: "unix", path: values.unix });
  return {
    root: positionals[0] ?? file.root ?? "www",
    listeners,
    udpPort: values.udp === undefined ? null : integerFlag("udp", values.udp, 0, 65535),
    workers: integerFlag("workers", values.workers, 1, 1024),
    log: values.log as LogFormat,
    files: {
      cors: values.cors ?? file.cors ?? false,
      dirListing: !values["no-dir-listing"],
      dotfiles: values.dotfiles as DotfilesPolicy,
      followSymlinks: values["follow-symlinks"],
      spa: values.spa ?? file.spa ?? false,
      cacheControl: values["cache-control"],
      headers: (values.header ?? []).map(parseHeaderFlag),
      compress: !values["no-compress"],
      cleanUrls: values["clean-urls"] ?? file.cleanUrls ?? false,
    },
    deploy: deployOptions(values),
    dev: devFlags(values, file),
  };
}

/** `devOptions`, its mistakes as usage errors (the config file's are its own, named after it). */
function devFlags(values: Parameters<typeof devOptions>[0], file: FileConfig): DevOptions {
  try {
    return devOptions(values, file);
  } catch (error) {
    if (error instanceof DevUsageError) throw new UsageError(error.message);
    throw error;
  }
}

function deployOptions(values: {
  "trust-proxy"?: string[];
  "forwarded-headers": string;
  "proxy-protocol": boolean;
  health?: string;
  "drain-delay"?: string;
}): DeployOptions {
  const trusted = (values["trust-proxy"] ?? []).flatMap((flag) => flag.split(","))
    .map((entry) => entry.trim());
  try {
    new CidrList(trusted);
  } catch (error) {
    throw new UsageError(`--trust-proxy: ${(error as Error).message}`);
  }
  const headers = values["forwarded-headers"];
  if (headers !== "x-forwarded" && headers !== "forwarded") {
    throw new UsageError(`--forwarded-headers must be x-forwarded or forwarded, not "${headers}"`);
  }
  const health = values.health;
  if (health !== undefined && !health.startsWith("/")) {
    throw new UsageError(`--health must be a path starting with "/", not "${health}"`);
  }
  const deploy: DeployOptions = {};
  if (trusted.length > 0) deploy.trustProxy = { trusted, headers };
  if (values["proxy-protocol"]) {
    deploy.proxyProtocol = trusted.length > 0 ? { trusted } : true;
  }
  if (health !== undefined) deploy.health = health;
  if (values["drain-delay"] !== undefined) {
    deploy.drainDelay = integerFlag("drain-delay", values["drain-delay"], 0, 3_600_000);
  }
  return deploy;
}

function integerFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${value}"`);
  }
  return n;
}

function parseHeaderFlag(flag: string): [string, string] {
  const colon = flag.indexOf(":");
  const name = flag.slice(0, colon).trim();
  const value = flag.slice(colon + 1).trim();
  try {
    if (colon <= 0) throw new Error();
    new Headers([[name, value]]); // the same validation every response header gets
  } catch {
    throw new UsageError(`--header must look like 'Name: value', not "${flag}"`);
  }
  return [name, value];
}

/** "www/" is shown as "www"; the root directory itself stays "/". */
function displayRoot(root: string): string {
  return root.replace(/(.)\/+$/, "$1");
}

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
    throw new Error(`cannot read --${flag} ${path}: ${describe(error)}`);
  }
}

function describeListener(spec: ListenerSpec): string {
  return spec.kind === "unix" ? spec.path : `${spec.hostname}:${spec.port}`;
}

/** An OS error's message without the " (os error N)" and the path Deno appends. */
export function describe(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/ \(os error \d+\).*$/, "");
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
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : describe(error);
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
      fail(`cannot listen on ${describeListener(spec)}: ${describe(error)}`, 1);
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
        `cannot listen on udp ${formatHostPort(hostname, config.udpPort)}: ${describe(error)}`,
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
    fail(describe(error), 1);
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
