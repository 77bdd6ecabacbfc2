/**
 * The config file's routing rules as pure functions over a URL path: redirects and rewrites
 * (`from` patterns with `:name` and `*` segments, substituted into `to`), headers by glob, and
 * proxy prefixes. Paths are compared as the request sent them (percent-encoded), so what a
 * pattern captures can be put into another URL as it is.
 */

/** `from` → `to`, answered with `status` (301 unless said otherwise). */
export interface RedirectRule {
  from: string;
  to: string;
  status: number;
}

/** `from` → `to`: the file server answers for `to` instead, the URL stays the same. */
export interface RewriteRule {
  from: string;
  to: string;
}

/** Headers set on responses for paths matching the glob `source`. */
export interface HeaderRule {
  source: string;
  headers: [string, string][];
}

/** The statuses a redirect may have. */
export const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

/**
 * A `from` pattern compiled: segments separated by "/", each literal, `:name` (one non-empty
 * segment) or, last, `*` (the rest of the path, possibly empty).
 */
export interface PathPattern {
  regexp: RegExp;
  names: string[];
}

/** Throws an Error saying what is wrong with `pattern`. */
export function compilePattern(pattern: string): PathPattern {
  if (!pattern.startsWith("/")) throw new Error(`must start with "/"`);
  const names: string[] = [];
  const segments = pattern.slice(1).split("/");
  let source = "^";
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === "*") {
      if (i !== segments.length - 1) throw new Error(`"*" must be the last segment`);
      names.push("*");
      // "/docs/*" matches "/docs" and "/docs/" too: the rest may be empty.
      source += i === 0 ? "/(.*)" : "(?:/(.*))?";
      continue;
    }
    source += "/";
    if (segment.startsWith(":")) {
      const name = segment.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new Error(`":${name}" is not a parameter name (letters, digits, "_")`);
      }
      if (names.includes(name)) throw new Error(`":${name}" appears twice`);
      names.push(name);
      source += "([^/]+)";
    } else {
      if (segment.includes("*")) throw new Error(`"*" must be a segment of its own`);
      source += escapeRegExp(segment);
    }
  }
  return { regexp: new RegExp(source + "$"), names };
}

/** The captures of `pattern` in `path` by name, or null when it does not match. */
export function matchPattern(pattern: PathPattern, path: string): Map<string, string> | null {
  const match = pattern.regexp.exec(path);
  if (match === null) return null;
  const captures = new Map<string, string>();
  pattern.names.forEach((name, i) => captures.set(name, match[i + 1] ?? ""));
  return captures;
}

/**
 * `to` with each `:name` and `*` replaced by what the pattern captured. Names `to` uses that the
 * pattern lacks are a configuration mistake, found by `checkTarget` at startup.
 */
export function substitute(to: string, captures: Map<string, string>): string {
  return to.replace(/:([A-Za-z_][A-Za-z0-9_]*)|\*/g, (token, name?: string) => {
    const value = captures.get(name ?? "*");
    return value === undefined ? token : value;
  });
}

/** Throws when `to` uses a `:name` that `from` does not capture (a port in a URL is fine). */
export function checkTarget(pattern: PathPattern, to: string): void {
  const path = to.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
  for (const [, name] of path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!pattern.names.includes(name)) throw new Error(`uses ":${name}", which "from" lacks`);
  }
  if (path.includes("*") && !pattern.names.includes("*")) {
    throw new Error(`uses "*", which "from" lacks`);
  }
}

/**
 * A glob over URL paths: `**` any characters, `*` any but "/", `?` one character but "/". A glob
 * without a "/" is matched against the last segment ("*.css" anywhere).
 */
export function compileGlob(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      source += ".*";
      i++;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += escapeRegExp(c);
  }
  return new RegExp(glob.includes("/") ? `^${source}$` : `(?:^|/)${source}$`);
}

/** A proxy prefix: "/api" covers "/api" and "/api/…", not "/apis". */
export function underPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return prefix.endsWith("/") || path.length === prefix.length || path[prefix.length] === "/";
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
