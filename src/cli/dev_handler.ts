/**
 * The development server around the file server: live reload's reserved paths, the config file's
 * redirects, rewrites and headers, and the API proxy. In that order: `/.sockserve/…` is answered
 * before anything else (no file or rule can shadow it), a redirect before anything is looked up,
 * a rewrite changes the path that the proxy and the file server see, and the header rules of the
 * requested path are set on whatever answers it.
 *
 * The file server's direct entry point (direct.ts) is kept: plain GETs and HEADs for files are
 * still answered from the parsed head. What needs a `Request` (the proxy, live reload's stream)
 * declines the direct path and is served through the ordinary one.
 */
import { type Answer, type DirectHandler, directOf, withDirect } from "../handler/direct.ts";
import { FieldList } from "../http1/field_list.ts";
import type { ServeHandler } from "../options.ts";
import { LiveReload, RESERVED_PREFIX } from "./live_reload.ts";
import type { ProxyRoute } from "./proxy/backend.ts";
import { Proxy } from "./proxy/handler.ts";
import {
  compileGlob,
  compilePattern,
  type HeaderRule,
  matchPattern,
  type PathPattern,
  type RedirectRule,
  type RewriteRule,
  substitute,
} from "./routes.ts";

/** The development features; structured-cloneable, for `--workers`. */
export interface DevOptions {
  watch: boolean;
  proxy: ProxyRoute[];
  /** Milliseconds to a backend's response head; then 504. */
  proxyTimeout: number;
  headers: HeaderRule[];
  redirects: RedirectRule[];
  rewrites: RewriteRule[];
}

/** Whether any of them is on (without, the file server runs unwrapped). */
export function usesDevFeatures(options: DevOptions): boolean {
  return options.watch || options.proxy.length > 0 || options.headers.length > 0 ||
    options.redirects.length > 0 || options.rewrites.length > 0;
}

export interface DevServer {
  handler: ServeHandler;
  /** The live-reload watcher, when `watch` is on. */
  liveReload: LiveReload | null;
  /** Ends live reload's streams, stops watching, closes the proxy's idle connections. */
  close(): Promise<void>;
}

interface Compiled<R> {
  rule: R;
  pattern: PathPattern;
}

/** Wraps `files` (the file server for `root`). Throws for rules that do not compile. */
export function devServer(files: ServeHandler, root: string, options: DevOptions): DevServer {
  const liveReload = options.watch ? new LiveReload(root) : null;
  const proxy = options.proxy.length > 0 ? new Proxy(options.proxy, options.proxyTimeout) : null;
  const redirects = options.redirects.map((rule) => ({ rule, pattern: compilePattern(rule.from) }));
  const rewrites = options.rewrites.map((rule) => ({ rule, pattern: compilePattern(rule.from) }));
  const headerRules = options.headers.map((rule) => ({
    glob: compileGlob(rule.source),
    headers: rule.headers,
  }));
  /** The configured fields for a requested path, in the file's order (later ones win). */
  const fieldsFor = (path: string): [string, string][] =>
    headerRules.filter((rule) => rule.glob.test(path)).flatMap((rule) => rule.headers);

  const handler: ServeHandler = async (request, info) => {
    const url = new URL(request.url);
    const path = url.pathname;
    if (liveReload !== null && path.startsWith(RESERVED_PREFIX)) return liveReload.answer(request);
    const fields = fieldsFor(path);
    const redirect = redirectFor(redirects, path, url.search);
    if (redirect !== null) return withFields(toRedirectResponse(redirect), fields);
    const rewritten = rewriteFor(rewrites, path, url.search);
    let forwarded = request;
    if (rewritten !== null) {
      url.pathname = rewritten.pathname;
      url.search = rewritten.search;
      forwarded = new Request(url, request);
    }
    const answer = proxy !== null && proxy.covers(url.pathname)
      ? proxy.forward(forwarded, info)
      : files(forwarded, info);
    return withFields(await answer, fields);
  };

  const filesDirect = directOf(files);
  const direct: DirectHandler | null = filesDirect === null ? null : (view, info) => {
    const path = view.pathname;
    if (liveReload !== null && path.startsWith(RESERVED_PREFIX)) return null;
    const fields = fieldsFor(path);
    const redirect = redirectFor(redirects, path, view.search);
    if (redirect !== null) return withAnswerFields(toRedirectAnswer(redirect), fields);
    const rewritten = rewriteFor(rewrites, path, view.search);
    const target = rewritten ?? view;
    if (proxy !== null && proxy.covers(target.pathname)) return null;
    const answer = filesDirect(
      rewritten === null ? view : { ...view, pathname: target.pathname, search: target.search },
      info,
    );
    if (fields.length === 0) return answer;
    return answer instanceof Promise
      ? answer.then((done) => done && withAnswerFields(done, fields))
      : answer && withAnswerFields(answer, fields);
  };

  return {
    handler: direct === null ? handler : withDirect(handler, direct),
    liveReload,
    async close() {
      proxy?.close();
      await liveReload?.close();
    },
  };
}

interface Redirect {
  status: number;
  location: string;
}

/** The first redirect rule matching `path`, with its target filled in (query kept if it has none). */
function redirectFor(
  rules: Compiled<RedirectRule>[],
  path: string,
  search: string,
): Redirect | null {
  for (const { rule, pattern } of rules) {
    const captures = matchPattern(pattern, path);
    if (captures === null) continue;
    const to = substitute(rule.to, captures);
    return { status: rule.status, location: to.includes("?") ? to : to + search };
  }
  return null;
}

/** The path and query the first matching rewrite leads to, or null. */
function rewriteFor(
  rules: Compiled<RewriteRule>[],
  path: string,
  search: string,
): { pathname: string; search: string } | null {
  for (const { rule, pattern } of rules) {
    const captures = matchPattern(pattern, path);
    if (captures === null) continue;
    const to = substitute(rule.to, captures);
    const q = to.indexOf("?");
    return q === -1
      ? { pathname: to, search }
      : { pathname: to.slice(0, q), search: to.slice(q) === "?" ? "" : to.slice(q) };
  }
  return null;
}

const REDIRECT_TEXT: Readonly<Record<number, string>> = {
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
};

function redirectBody(redirect: Redirect): string {
  return `${redirect.status} ${REDIRECT_TEXT[redirect.status] ?? ""}\n`;
}

function toRedirectResponse(redirect: Redirect): Response {
  return new Response(redirectBody(redirect), {
    status: redirect.status,
    headers: { location: redirect.location, "content-type": "text/plain; charset=utf-8" },
  });
}

function toRedirectAnswer(redirect: Redirect): Answer {
  const bytes = new TextEncoder().encode(redirectBody(redirect));
  const headers = new FieldList({
    location: redirect.location,
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(bytes.length),
  });
  return { status: redirect.status, headers, body: { kind: "bytes", bytes } };
}

/** `response` with the configured fields set (a copy when its headers are immutable). */
function withFields(response: Response, fields: [string, string][]): Response {
  if (fields.length === 0) return response;
  try {
    for (const [name, value] of fields) response.headers.set(name, value);
    return response;
  } catch {
    const headers = new Headers(response.headers);
    for (const [name, value] of fields) headers.set(name, value);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }
}

/** `answer` with the configured fields set; a shared (frozen) field list is copied first. */
function withAnswerFields(answer: Answer, fields: [string, string][]): Answer {
  if (fields.length === 0) return answer;
  let headers = answer.headers;
  if (headers.frozen) {
    headers = new FieldList();
    for (const [name, value] of answer.headers) headers.set(name, value);
  }
  for (const [name, value] of fields) headers.set(name, value);
  return { ...answer, headers };
}
