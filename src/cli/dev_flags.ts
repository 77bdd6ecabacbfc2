/**
 * The development server's command-line flags, and how they meet the config file: the file is
 * read first, flags override it (a boolean flag turns its feature on; `--proxy` adds routes and
 * replaces a route of the file with the same prefix).
 */
import type { ParseArgsOptionsConfig } from "node:util";
import {
  CONFIG_FILE_NAME,
  ConfigError,
  type FileConfig,
  MAX_PROXY_TIMEOUT_MS,
  readConfig,
} from "./config.ts";
import type { DevOptions } from "./dev_handler.ts";
import { checkPrefix, parseBackend, type ProxyRoute } from "./proxy/backend.ts";
import { DEFAULT_PROXY_TIMEOUT_MS } from "./proxy/handler.ts";
import { resolveFrom } from "./startup.ts";

/** The flags' part of `--help`. */
export const DEV_HELP = `Development server:
  --watch               live reload: pages reload when a file under ROOT changes, changed
                        stylesheets are swapped in place (default: off)
  --clean-urls          /about serves about.html; /about.html redirects to /about
  --proxy PREFIX=URL    forward requests under PREFIX to the http:// backend URL, e.g.
                        --proxy /api=http://127.0.0.1:3000 (repeatable)
  --proxy-timeout MS    504 when a backend sends no response head in time (default: 30000)
  --config FILE         settings file (default: sockserve.json in the current directory,
                        when there is one); flags override it
  --no-config           ignore sockserve.json`;

/** No defaults: an absent flag leaves the config file's setting. */
export const DEV_FLAGS = {
  watch: { type: "boolean" },
  "clean-urls": { type: "boolean" },
  proxy: { type: "string", multiple: true },
  "proxy-timeout": { type: "string" },
  config: { type: "string" },
  "no-config": { type: "boolean", default: false },
} as const satisfies ParseArgsOptionsConfig;

/** A mistake on the command line or in the config file: one line, exit code 2. */
export class DevUsageError extends Error {}

interface DevFlagValues {
  watch?: boolean;
  proxy?: string[];
  "proxy-timeout"?: string;
  config?: string;
  "no-config"?: boolean;
}

/**
 * The config file's settings: `--config FILE` (which must exist), else `sockserve.json` in
 * `startDir` if there is one, else none. Relative paths are read from `startDir`; the file's
 * `root` from the file's directory.
 */
export function configFile(values: DevFlagValues, startDir: string): FileConfig {
  if (values["no-config"]) return {};
  const path = resolveFrom(startDir, values.config ?? CONFIG_FILE_NAME);
  try {
    return readConfig(path, values.config !== undefined, resolveFrom) ?? {};
  } catch (error) {
    if (error instanceof ConfigError) throw new DevUsageError(error.message);
    throw error;
  }
}

/** The dev server's options: the file's, overridden by the flags. Throws DevUsageError. */
export function devOptions(values: DevFlagValues, file: FileConfig): DevOptions {
  const routes = new Map<string, ProxyRoute>();
  for (const route of file.proxy ?? []) routes.set(route.prefix, route);
  for (const flag of values.proxy ?? []) {
    const route = proxyFlag(flag);
    routes.set(route.prefix, route);
  }
  let proxyTimeout = file.proxyTimeout ?? DEFAULT_PROXY_TIMEOUT_MS;
  const timeout = values["proxy-timeout"];
  if (timeout !== undefined) {
    const n = Number(timeout);
    if (!/^\d+$/.test(timeout) || n < 1 || n > MAX_PROXY_TIMEOUT_MS) {
      throw new DevUsageError(
        `--proxy-timeout must be an integer from 1 to ${MAX_PROXY_TIMEOUT_MS}, not "${timeout}"`,
      );
    }
    proxyTimeout = n;
  }
  return {
    watch: values.watch ?? file.watch ?? false,
    proxy: [...routes.values()],
    proxyTimeout,
    headers: file.headers ?? [],
    redirects: file.redirects ?? [],
    rewrites: file.rewrites ?? [],
  };
}

/** `PREFIX=URL`, checked. */
function proxyFlag(flag: string): ProxyRoute {
  const eq = flag.indexOf("=");
  if (eq === -1) {
    throw new DevUsageError(
      `--proxy must look like PREFIX=URL (/api=http://127.0.0.1:3000), not "${flag}"`,
    );
  }
  const prefix = flag.slice(0, eq);
  const target = flag.slice(eq + 1);
  try {
    checkPrefix(prefix);
    parseBackend(target);
  } catch (error) {
    throw new DevUsageError(`--proxy: ${(error as Error).message}`);
  }
  return { prefix, target };
}
