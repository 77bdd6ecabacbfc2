/**
 * The config file, `sockserve.json` in the directory the command was started in (or `--config
 * FILE`): the command line's settings as JSON, plus the rules only a file can hold (headers by
 * glob, redirects, rewrites). Checked whole before anything starts: an unknown key or a bad value
 * is one line naming the key. sockserve.schema.json describes the same keys for editors; a test
 * holds the two together.
 */
import { FRAMING_HEADERS } from "../static/mod.ts";
import { checkPrefix, parseBackend, type ProxyRoute } from "./proxy/backend.ts";
import {
  checkTarget,
  compileGlob,
  compilePattern,
  type HeaderRule,
  REDIRECT_STATUSES,
  type RedirectRule,
  type RewriteRule,
} from "./routes.ts";

/** The file's name in the start directory. */
export const CONFIG_FILE_NAME = "sockserve.json";

/** Longest proxy timeout accepted, in milliseconds (an hour). */
export const MAX_PROXY_TIMEOUT_MS = 3_600_000;

/** A validated config file; absent keys are absent. `root` is resolved against the file's dir. */
export interface FileConfig {
  root?: string;
  port?: number;
  host?: string;
  cleanUrls?: boolean;
  spa?: boolean;
  cors?: boolean;
  watch?: boolean;
  proxy?: ProxyRoute[];
  proxyTimeout?: number;
  headers?: HeaderRule[];
  redirects?: RedirectRule[];
  rewrites?: RewriteRule[];
}

/** A mistake in the config file: printed as one line, exit code 2. */
export class ConfigError extends Error {}

type Check = (value: unknown, key: string) => unknown;

/** Every key the file may have, with the check that turns its value into the setting. */
const KEYS: Record<string, Check> = {
  $schema: (value, key) => string(value, key),
  root: (value, key) => nonEmptyString(value, key),
  port: (value, key) => integer(value, key, 0, 65535),
  host: (value, key) => nonEmptyString(value, key),
  cleanUrls: boolean,
  spa: boolean,
  cors: boolean,
  watch: boolean,
  proxy: proxyRoutes,
  proxyTimeout: (value, key) => integer(value, key, 1, MAX_PROXY_TIMEOUT_MS),
  headers: headerRules,
  redirects: redirectRules,
  rewrites: rewriteRules,
};

/** The keys the file may have (the schema's `properties` must list the same). */
export const CONFIG_KEYS: readonly string[] = Object.keys(KEYS);

/**
 * Checks a parsed config file. `name` is how errors name the file. Throws ConfigError.
 */
export function validateConfig(json: unknown, name: string): FileConfig {
  if (!isObject(json)) throw new ConfigError(`${name}: must hold a JSON object`);
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const check = KEYS[key];
    if (check === undefined) {
      throw new ConfigError(
        `${name}: unknown key "${key}" (known: ${
          CONFIG_KEYS.filter((k) => k !== "$schema").join(", ")
        })`,
      );
    }
    try {
      if (key !== "$schema") config[key] = check(value, key);
      else check(value, key);
    } catch (error) {
      if (error instanceof KeyError) throw new ConfigError(`${name}: ${error.message}`);
      throw error;
    }
  }
  return config as FileConfig;
}

/**
 * Reads and checks the file at `path`. A missing file is null when `required` is false (the
 * default file need not exist), an error otherwise. `root` comes back resolved against the
 * file's directory by `resolve`.
 */
export function readConfig(
  path: string,
  required: boolean,
  resolve: (dir: string, path: string) => string,
): FileConfig | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (!required && error instanceof Deno.errors.NotFound) return null;
    const reason = error instanceof Deno.errors.NotFound ? "does not exist" : String(error);
    throw new ConfigError(`config file ${path}: ${reason.replace(/ \(os error \d+\).*$/, "")}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  const config = validateConfig(json, path);
  if (config.root !== undefined) {
    const dir = path.replace(/[\\/][^\\/]*$/, "") || "/";
    config.root = resolve(dir, config.root);
  }
  return config;
}

/** A value's mistake, named by its key path ("redirects[0].to"). */
class KeyError extends Error {
  constructor(key: string, message: string) {
    super(`"${key}" ${message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : `${typeof value} ${JSON.stringify(value)}`;
}

function string(value: unknown, key: string): string {
  if (typeof value !== "string") {
    throw new KeyError(key, `must be a string, not ${describe(value)}`);
  }
  return value;
}

function nonEmptyString(value: unknown, key: string): string {
  if (string(value, key) === "") throw new KeyError(key, "must not be empty");
  return value as string;
}

function boolean(value: unknown, key: string): boolean {
  if (typeof value !== "boolean") {
    throw new KeyError(key, `must be true or false, not ${describe(value)}`);
  }
  return value;
}

function integer(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new KeyError(key, `must be an integer from ${min} to ${max}, not ${describe(value)}`);
  }
  return value;
}

function object(value: unknown, key: string): Record<string, unknown> {
  if (!isObject(value)) throw new KeyError(key, `must be an object, not ${describe(value)}`);
  return value;
}

function array(value: unknown, key: string): unknown[] {
  if (!Array.isArray(value)) throw new KeyError(key, `must be an array, not ${describe(value)}`);
  return value;
}

/** An object with exactly the `required` keys and any of the `optional` ones. */
function record(value: unknown, key: string, required: string[], optional: string[] = []) {
  const fields = object(value, key);
  for (const name of Object.keys(fields)) {
    if (!required.includes(name) && !optional.includes(name)) {
      throw new KeyError(
        `${key}.${name}`,
        `is not a known key (known: ${[...required, ...optional].join(", ")})`,
      );
    }
  }
  for (const name of required) {
    if (!(name in fields)) throw new KeyError(`${key}.${name}`, "is missing");
  }
  return fields;
}

/** Runs `check`, naming its Error (a message without a key) after `key`. */
function named<T>(key: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof KeyError) throw error;
    throw new KeyError(key, (error as Error).message);
  }
}

function proxyRoutes(value: unknown, key: string): ProxyRoute[] {
  return Object.entries(object(value, key)).map(([prefix, target]) => {
    const at = `${key}.${prefix}`;
    named(at, () => checkPrefix(prefix));
    named(at, () => parseBackend(string(target, at)));
    return { prefix, target: target as string };
  });
}

function headerRules(value: unknown, key: string): HeaderRule[] {
  return Object.entries(object(value, key)).map(([source, headers]) => {
    const at = `${key}.${source}`;
    named(at, () => compileGlob(source));
    const fields = Object.entries(object(headers, at)).map(([name, field]) => {
      const text = string(field, `${at}.${name}`);
      named(`${at}.${name}`, () => checkHeader(name, text));
      return [name, text] as [string, string];
    });
    return { source, headers: fields };
  });
}

/** A field value: tabs, visible ASCII, spaces and Latin-1's upper half (obs-text). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function checkHeader(name: string, value: string): void {
  try {
    if (!FIELD_VALUE.test(value)) throw new Error();
    new Headers([[name, value]]);
  } catch {
    throw new Error("is not a valid header field (name: a token; value: no control characters)");
  }
  if (FRAMING_HEADERS.includes(name.toLowerCase())) {
    throw new Error("frames the message and cannot be set by configuration");
  }
}

function redirectRules(value: unknown, key: string): RedirectRule[] {
  return array(value, key).map((item, i) => {
    const at = `${key}[${i}]`;
    const rule = record(item, at, ["from", "to"], ["status"]);
    const from = string(rule.from, `${at}.from`);
    const to = nonEmptyString(rule.to, `${at}.to`);
    const pattern = named(`${at}.from`, () => compilePattern(from));
    if (!to.startsWith("/") && !/^https?:\/\/[^/]/i.test(to)) {
      throw new KeyError(`${at}.to`, `must be a path starting with "/" or an http(s) URL`);
    }
    named(`${at}.to`, () => checkTarget(pattern, to));
    let status = 301;
    if (rule.status !== undefined) {
      status = integer(rule.status, `${at}.status`, 300, 399);
      if (!(REDIRECT_STATUSES as readonly number[]).includes(status)) {
        throw new KeyError(`${at}.status`, `must be one of ${REDIRECT_STATUSES.join(", ")}`);
      }
    }
    return { from, to, status };
  });
}

function rewriteRules(value: unknown, key: string): RewriteRule[] {
  return array(value, key).map((item, i) => {
    const at = `${key}[${i}]`;
    const rule = record(item, at, ["from", "to"]);
    const from = string(rule.from, `${at}.from`);
    const to = string(rule.to, `${at}.to`);
    const pattern = named(`${at}.from`, () => compilePattern(from));
    if (!to.startsWith("/")) throw new KeyError(`${at}.to`, `must be a path starting with "/"`);
    named(`${at}.to`, () => checkTarget(pattern, to));
    return { from, to };
  });
}
