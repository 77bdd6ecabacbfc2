/**
 * `fileServer(root, options)`: a request handler that serves the files below a directory.
 *
 * It is a plain `(request) => Response` handler, so it runs under this package's `serve()` and
 * under `Deno.serve` alike, and composes with other handlers. It never touches a socket. Under
 * `serve()` it also answers plain GETs and HEADs straight from the parsed head (direct.ts): the
 * same code, given a view of the head instead of a `Request`, and its answer written as bytes
 * instead of built into a `Response`.
 *
 * ```ts
 * import { fileServer, serve } from "../../mod.ts";
 * serve({ port: 8000 }, fileServer("www", { cors: true }));
 * ```
 *
 * @module
 */
import { type Answer, type RequestView, withDirect } from "../handler/direct.ts";
import { FieldList } from "../http1/field_list.ts";
import { FileCache } from "./cache.ts";
import {
  addCommonFields,
  fileAnswer,
  type FileResponseOptions,
  type FileTarget,
} from "./file_response.ts";
import { LISTING_CSP, listingHtml, listingJson, prefersJson, readListing } from "./listing.ts";
import { loadTypes, typesLoaded } from "./mime.ts";
import { parseWeightedList } from "./negotiate.ts";
import {
  type DecodedPath,
  decodeUrlPath,
  fsErrorStatus,
  hasHiddenSegment,
  openRoot,
} from "./path.ts";
import { bytesAnswer, plainAnswer, toResponse } from "./responses.ts";
import { cleanUrlRedirect, htmlPageSegments } from "./clean_urls.ts";

/** What to do with names starting with ".": serve them, answer 403, or act as if absent (404). */
export type DotfilesPolicy = "allow" | "deny" | "ignore";

export interface FileServerOptions {
  /** List directories that have no index.html. Default true (a development server). */
  dirListing?: boolean;
  /** Names starting with "." anywhere in the path. Default "ignore" (404, as if absent). */
  dotfiles?: DotfilesPolicy;
  /** Follow symlinks that lead outside the root. Default false: they are 404. */
  followSymlinks?: boolean;
  /** Allow cross-origin reads: `Access-Control-Allow-Origin: *` and preflight answers. */
  cors?: boolean;
  /** Cache-Control value for files (e.g. "public, max-age=3600"). Default none. */
  cacheControl?: string;
  /** Extra headers set on every response (they replace the server's own of the same name). */
  headers?: HeadersInit;
  /** Single-page app: unknown paths asked for as HTML get /index.html. Default false. */
  spa?: boolean;
  /** Serve precompressed siblings and compress on the fly. Default true. */
  compress?: boolean;
  /** `/about` serves about.html, and `/about.html` redirects (301) to `/about`. Default false. */
  cleanUrls?: boolean;
  /**
   * Markup inserted into every HTML file before `</body>` (the dev server's live-reload script).
   * Such files are sent whole and uncoded, with an ETag of their own. Default none.
   */
  injectHtml?: string;
}

interface Settings extends FileResponseOptions {
  dirListing: boolean;
  dotfiles: DotfilesPolicy;
  cors: boolean;
  spa: boolean;
  cleanUrls: boolean;
}

/** Headers that frame the message: the server owns them, a user setting them would break it. */
export const FRAMING_HEADERS: readonly string[] = [
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
];

/**
 * Creates the handler. Throws at once if `root` is missing or not a directory, or if an option is
 * invalid, so that mistakes show at startup rather than as 404s.
 */
export function fileServer(
  root: string,
  options: FileServerOptions = {},
): (request: Request) => Promise<Response> {
  const dotfiles = options.dotfiles ?? "ignore";
  if (!["allow", "deny", "ignore"].includes(dotfiles)) {
    throw new TypeError(`dotfiles must be allow, deny or ignore, not "${dotfiles}"`);
  }
  const headers = new Headers(options.headers);
  for (const name of FRAMING_HEADERS) {
    if (headers.has(name)) throw new TypeError(`the header ${name} cannot be set by configuration`);
  }
  const settings: Settings = {
    root: openRoot(root, options.followSymlinks ?? false),
    dirListing: options.dirListing ?? true,
    dotfiles,
    cors: options.cors ?? false,
    cacheControl: options.cacheControl ?? null,
    commonFields: commonFields(options.cors ?? false, headers),
    sharedFields: new WeakMap(),
    spa: options.spa ?? false,
    cleanUrls: options.cleanUrls ?? false,
    injectHtml: options.injectHtml ?? null,
    compress: options.compress ?? true,
    cache: new FileCache(),
  };
  // Content types load while the server starts; a request that comes first waits for them (and
  // gets their failure, if they fail: nobody else is there to see it).
  const typesReady = loadTypes();
  typesReady.catch(() => {});
  const answer = (request: RequestView): Answer | Promise<Answer> => {
    if (!typesLoaded()) return typesReady.then(() => answer(request));
    const routed = route(request, settings);
    return routed instanceof Promise
      ? routed.then((done) => decorate(done, settings))
      : decorate(routed, settings);
  };
  return withDirect(
    async (request: Request) => toResponse(await answer(viewOf(request))),
    answer,
  );
}

/** What the file server reads of a `Request`. */
function viewOf(request: Request): RequestView {
  const url = new URL(request.url);
  return {
    method: request.method,
    pathname: url.pathname,
    search: url.search,
    headers: request.headers,
  };
}

/** The answer to any request; a promise only for a directory listing (read asynchronously). */
function route(request: RequestView, settings: Settings): Answer | Promise<Answer> {
  if (request.method === "OPTIONS" && settings.cors) return preflight(request);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return plainAnswer(405, { allow: allowedMethods(settings) });
  }
  const decoded = decodeUrlPath(request.pathname);
  if (decoded === 400) return plainAnswer(400);
  if (decoded === 404) return notFound(request, settings);
  const failed = (error: unknown) => fsFailure(error, request, settings);
  try {
    const answer = servePath(request, decoded, settings);
    return answer instanceof Promise ? answer.catch(failed) : answer;
  } catch (error) {
    return failed(error);
  }
}

/** A file system error as the client sees it (404, 403…); anything else is thrown on. */
function fsFailure(error: unknown, request: RequestView, settings: Settings): Answer {
  const status = fsErrorStatus(error);
  if (status === null) throw error;
  return status === 404 ? notFound(request, settings) : plainAnswer(status);
}

function servePath(
  request: RequestView,
  path: DecodedPath,
  settings: Settings,
  cleanUrls = settings.cleanUrls,
): Answer | Promise<Answer> {
  const hiddenAllowed = settings.dotfiles === "allow";
  if (!hiddenAllowed && hasHiddenSegment(path.segments)) return hidden(request, settings);
  if (cleanUrls && !path.trailingSlash) {
    const clean = cleanUrl(request, path.segments, settings);
    if (clean !== null) return clean;
  }
  const found = settings.cache.resolve(settings.root, path.segments, request.receivedIn);
  if (!found) return notFound(request, settings);
  const { resolved, info } = found;
  // A symlink inside the root may lead into a hidden directory: check where it really goes too.
  if (!hiddenAllowed && resolved.relative && hasHiddenSegment(resolved.relative)) {
    return hidden(request, settings);
  }
  if (info.isDirectory) {
    if (!path.trailingSlash) return redirectToDirectory(path.segments, request.search);
    const index = findFile(settings, [...path.segments, "index.html"], request.receivedIn);
    if (index) return fileAnswer(request, index, settings);
    if (!settings.dirListing) return notFound(request, settings);
    return listing(request, path.segments, resolved.real, settings);
  }
  // Only regular files: opening a FIFO or a device could block or never end. A file asked for
  // as a directory ("/a.txt/") is absent, as on disk (ENOTDIR), so relative links never break.
  if (!info.isFile || path.trailingSlash) return notFound(request, settings);
  return fileAnswer(request, { path: resolved.real, info }, settings);
}

/**
 * With `cleanUrls`: the 301 from `/page.html` to `/page` (when that one would serve it), or the
 * answer of `page.html` for `/page` when nothing is at `/page` itself; null for the usual route.
 */
function cleanUrl(
  request: RequestView,
  segments: readonly string[],
  settings: Settings,
): Answer | Promise<Answer> | null {
  if (segments.length === 0) return null;
  const page = htmlPageSegments(segments);
  if (page === null) {
    const redirect = cleanUrlRedirect(segments, request.search);
    if (redirect === null || findFile(settings, segments) === null) return null;
    const last = segments[segments.length - 1];
    // Not where an extensionless file or a directory of that name would answer instead.
    const clean = segments.with(-1, last.slice(0, -".html".length));
    return last === "index.html" || !exists(settings, clean) ? redirect : null;
  }
  if (exists(settings, segments) || findFile(settings, page) === null) return null;
  return servePath(request, { segments: page, trailingSlash: false }, settings, false);
}

/** Whether anything the file server could answer for is at `segments`. */
function exists(settings: Settings, segments: readonly string[]): boolean {
  try {
    return settings.cache.resolve(settings.root, segments) !== null;
  } catch (error) {
    if (fsErrorStatus(error) === null) throw error;
    return false;
  }
}

/**
 * 301 to the slash form, so that relative links inside the directory's page resolve (as nginx,
 * Caddy and Apache do). The Location is rebuilt from the decoded segments, re-encoded: it always
 * starts with exactly one "/" followed by a non-empty segment, so it can never be read as
 * `//host` (an open redirect), whatever the request path looked like.
 */
function redirectToDirectory(segments: readonly string[], search: string): Answer {
  const location = `/${segments.map(encodeURIComponent).join("/")}/${search}`;
  return plainAnswer(301, { location });
}

async function listing(
  request: RequestView,
  segments: readonly string[],
  dir: string,
  settings: Settings,
): Promise<Answer> {
  const entries = await readListing(settings.root, dir, settings.dotfiles === "allow");
  const headers: Record<string, string> = { vary: "Accept" };
  if (prefersJson(request.headers.get("accept"))) {
    headers["content-type"] = "application/json; charset=utf-8";
    return bytesAnswer(listingJson(segments, entries), 200, headers);
  }
  headers["content-type"] = "text/html; charset=utf-8";
  headers["content-security-policy"] = LISTING_CSP;
  return bytesAnswer(listingHtml(segments, entries), 200, headers);
}

function hidden(request: RequestView, settings: Settings): Answer {
  return settings.dotfiles === "deny" ? plainAnswer(403) : notFound(request, settings);
}

/**
 * Not found: with `spa`, a request for an HTML page gets /index.html (client-side routing);
 * otherwise the root's 404.html if there is one, else a plain 404.
 */
function notFound(request: RequestView, settings: Settings): Answer {
  if (settings.spa && acceptsHtml(request)) {
    const index = findFile(settings, ["index.html"], request.receivedIn);
    if (index) return fileAnswer(request, index, settings);
  }
  const page = findFile(settings, ["404.html"], request.receivedIn);
  if (page) return fileAnswer(request, page, { ...settings, status: 404 });
  return plainAnswer(404);
}

/** Browsers navigating ask for text/html by name; scripts and images do not. */
function acceptsHtml(request: RequestView): boolean {
  const accept = request.headers.get("accept");
  return accept !== null &&
    parseWeightedList(accept).some(({ value, q }) => value === "text/html" && q > 0);
}

/**
 * A regular file at fixed segments below the root (index.html, 404.html), or null. Found through
 * the cache like any requested path: "/" is the most asked-for URL of a site. `receivedIn` is the
 * request's read epoch, when known (see cache.ts).
 */
function findFile(
  settings: Settings,
  segments: readonly string[],
  receivedIn?: number,
): FileTarget | null {
  try {
    const found = settings.cache.resolve(settings.root, segments, receivedIn);
    return found?.info.isFile ? { path: found.resolved.real, info: found.info } : null;
  } catch (error) {
    if (fsErrorStatus(error) === null) throw error;
    return null;
  }
}

function allowedMethods(settings: Settings): string {
  return settings.cors ? "GET, HEAD, OPTIONS" : "GET, HEAD";
}

/** CORS preflight (Fetch standard §3.2.2): allow the methods we serve and whatever headers. */
function preflight(request: RequestView): Answer {
  const headers = new FieldList({
    allow: "GET, HEAD, OPTIONS",
    "access-control-allow-methods": "GET, HEAD, OPTIONS",
    "access-control-max-age": "86400",
  });
  const requested = request.headers.get("access-control-request-headers");
  if (requested) headers.set("access-control-allow-headers", requested);
  return { status: 204, headers, body: null };
}

/**
 * The fields every answer gets: nosniff, CORS when on, and the configured extra headers (last, so
 * that they replace the server's own).
 */
function commonFields(cors: boolean, configured: Headers): [string, string][] {
  const fields: [string, string][] = [["x-content-type-options", "nosniff"]];
  if (cors) {
    fields.push(
      ["access-control-allow-origin", "*"],
      ["access-control-expose-headers", "Content-Range, Accept-Ranges, Content-Encoding, ETag"],
    );
  }
  return [...fields, ...configured];
}

/** Gives an answer the common fields; a shared list (file_response.ts) was given them once. */
function decorate(answer: Answer, settings: Settings): Answer {
  const headers = answer.headers;
  if (headers.frozen) return answer;
  addCommonFields(headers, settings);
  return answer;
}
