/**
 * From a request's URL path to a real file path that is provably inside the root.
 *
 * Two stages, both needed: `decodeUrlPath` works on the URL alone (percent-decoding once, dot
 * segments, characters that would change meaning on disk), and `resolveInRoot` asks the file
 * system where that name really leads (symlinks resolved by `realPath`) and refuses anything that
 * ends outside the root. The second stage alone would already stop `..`, but the first gives
 * clear 400s for malformed input and keeps the names that reach the file system simple.
 *
 * The file system calls of the file server are synchronous on purpose: for a file in the page
 * cache, `realPath`, `stat`, `open`, `read` and `close` take microseconds, and their async forms
 * cost 55–60 µs per file in thread-pool round trips, more than the work itself: on a 1 KiB file
 * the synchronous forms serve three times as many requests a second.
 */
/** The URL path as root-relative, decoded segments (never "", ".", ".." or containing a separator). */
export interface DecodedPath {
  readonly segments: readonly string[];
  /** The URL path ended in "/": a directory was asked for. */
  trailingSlash: boolean;
}

/** Why a URL path was refused: 400 for malformed encodings, 404 for names that cannot be served. */
export type PathRefusal = 400 | 404;

const IS_WINDOWS = Deno.build.os === "windows";
/**
 * The platform's path separator. Not `node:path`'s `sep`: importing any `node:` module starts
 * Deno's Node compatibility layer, 6 MiB of resident memory for every process importing mod.ts.
 */
const sep = IS_WINDOWS ? "\\" : "/";

/**
 * Splits a still-percent-encoded URL path into decoded segments. Decoding happens exactly once,
 * per segment, *after* splitting, so `%2f` can never become a separator (RFC 3986 §2.4: a
 * percent-encoded octet is data, not a delimiter).
 */
export function decodeUrlPath(pathname: string): DecodedPath | PathRefusal {
  // Clients ask for the same paths over and over: the last one's result is kept (it is frozen,
  // and so is its array of segments).
  if (pathname === lastPathname) return lastDecoded;
  const decoded = decodeSegments(pathname);
  lastPathname = pathname;
  lastDecoded = typeof decoded === "number" ? decoded : Object.freeze(decoded);
  return lastDecoded;
}

let lastPathname: string | null = null;
let lastDecoded: DecodedPath | PathRefusal = 404;

function decodeSegments(pathname: string): DecodedPath | PathRefusal {
  const segments: string[] = [];
  for (const raw of pathname.split("/")) {
    let segment = raw;
    // Without a "%" there is nothing to decode (and nothing that could fail to).
    if (raw.includes("%")) {
      try {
        segment = decodeURIComponent(raw);
      } catch {
        return 400; // a stray "%", or bytes that are not UTF-8 (overlong forms like %c0%ae too)
      }
    }
    if (segment.includes("\0")) return 400;
    // A decoded separator would let one URL segment name a file in another directory; "\" is a
    // separator on Windows and is refused everywhere so the same URL means the same on every OS.
    if (segment.includes("/") || segment.includes("\\")) return 404;
    // Drive letters and NTFS alternate data streams ("file::$DATA") are spelled with ":".
    if (IS_WINDOWS && segment.includes(":")) return 404;
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      // RFC 3986 §5.2.4 would clamp at the root; a path that tries to climb out is never a
      // legitimate link, so it is refused rather than quietly reinterpreted.
      if (segments.length === 0) return 404;
      segments.pop();
      continue;
    }
    segments.push(segment);
  }
  return { segments: Object.freeze(segments), trailingSlash: pathname.endsWith("/") };
}

/** Dotfiles are names starting with "."; `.well-known` is not special-cased (use `allow`). */
export function hasHiddenSegment(segments: readonly string[]): boolean {
  return segments.some((segment) => segment.startsWith("."));
}

/** The served directory, resolved once so every request compares against the same real path. */
export interface Root {
  /** The real path of the root (symlinks resolved), without a trailing separator unless "/". */
  real: string;
  /** Follow symlinks whose target lies outside the root. */
  followSymlinks: boolean;
}

/**
 * Resolves the root directory. Throws (NotFound, or an Error saying it is not a directory) so a
 * command line can refuse to start rather than answer 404 to everything.
 */
export function openRoot(root: string, followSymlinks: boolean): Root {
  const real = Deno.realPathSync(root);
  if (!Deno.statSync(real).isDirectory) throw new Error(`root is not a directory: ${root}`);
  return { real, followSymlinks };
}

/** Where a request leads on disk: the real path and that path's segments relative to the root. */
export interface Resolved {
  real: string;
  /** Segments of `real` below the root; null when a followed symlink left the root. */
  relative: string[] | null;
}

/**
 * Resolves segments below the root to a real path, or null when that path is outside the root
 * (and following symlinks out of it was not allowed). File system errors (ENOENT, ENOTDIR, ELOOP,
 * …) propagate; `fsErrorStatus` maps them.
 */
export function resolveInRoot(root: Root, segments: readonly string[]): Resolved | null {
  return confine(root, Deno.realPathSync(candidatePath(root, segments)));
}

/** The path on disk that segments below the root name, before any symlink is resolved. */
export function candidatePath(root: Root, segments: readonly string[]): string {
  // The same segments (decodeUrlPath's last result) give the same string, whose hash V8 keeps:
  // the file cache's lookup of a hot path then hashes nothing.
  if (segments === lastSegments && root === lastRoot) return lastCandidate;
  const candidate = segments.length === 0 ? root.real : joinBelow(root.real, segments);
  if (Object.isFrozen(segments)) {
    lastSegments = segments;
    lastRoot = root;
    lastCandidate = candidate;
  }
  return candidate;
}

let lastSegments: readonly string[] | null = null;
let lastRoot: Root | null = null;
let lastCandidate = "";

/**
 * Resolves any path (a precompressed sibling, a listing entry) like `resolveInRoot`: its real
 * path, or null when that lies outside the root and following symlinks out is not allowed.
 */
export function resolvePath(root: Root, path: string): Resolved | null {
  return confine(root, Deno.realPathSync(path));
}

/** An absolute path's directory and last name (`dirname` and `basename`, no trailing separator). */
export function splitLast(path: string): [dir: string, name: string] {
  const at = path.lastIndexOf(sep);
  const dir = path.slice(0, at);
  // "/x" is in "/", and "C:\x" in "C:\" (not "C:", the current directory of drive C).
  return [dir === "" || dir.endsWith(":") ? dir + sep : dir, path.slice(at + 1)];
}

/** `base` (a real path) joined with names below it, which contain no separator. */
export function joinBelow(base: string, segments: readonly string[]): string {
  return (base.endsWith(sep) ? base : base + sep) + segments.join(sep);
}

function confine(root: Root, real: string): Resolved | null {
  if (real === root.real) return { real, relative: [] };
  const prefix = root.real.endsWith(sep) ? root.real : root.real + sep;
  if (real.startsWith(prefix)) return { real, relative: real.slice(prefix.length).split(sep) };
  return root.followSymlinks ? { real, relative: null } : null;
}

/**
 * The status for a file system error met while resolving or opening a request's path, or null
 * for errors that are the server's problem (they propagate to the server's onError as 500s).
 * Error messages are never shown to clients: they contain absolute paths.
 */
export function fsErrorStatus(error: unknown): 403 | 404 | null {
  const code = (error as { code?: unknown })?.code;
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
    case "ELOOP":
    case "ENAMETOOLONG":
    case "EINVAL":
      return 404;
    case "EACCES":
    case "EPERM":
      return 403;
    default:
      return null;
  }
}
