/**
 * The command line of `deno task serve`, read into a `CliConfig`: the flags, their defaults and
 * their checks (a mistake is a `UsageError`, one line that names the flag), the config file's
 * values under them, and the help text.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type { ServeOptions } from "../options.ts";
import { CidrList } from "../balancer/ip.ts";
import type { DotfilesPolicy, FileServerOptions } from "../static/mod.ts";
import { LOG_FORMATS, type LogFormat } from "./access_log.ts";
import type { DevOptions } from "./dev_handler.ts";
import type { FileConfig } from "./config.ts";
import { configFile, DEV_FLAGS, DEV_HELP, devOptions, DevUsageError } from "./dev_flags.ts";
import { DEFAULT_PORT, startDirectory } from "./startup.ts";

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
export function displayRoot(root: string): string {
  return root.replace(/(.)\/+$/, "$1");
}
