/**
 * Serving a directory under a URL prefix: the demo shows the repository's `src/` and `examples/`
 * at /src/ and /examples/, so the home page's links to the source files work.
 *
 * Each mount is its own `fileServer()` with its own root, so its path resolution confines it to
 * that directory (`/src/../deno.json` is resolved by the URL parser to `/deno.json` before it
 * gets here; encoded dot segments are the file server's to refuse). Read-only by construction:
 * the file server answers GET and HEAD only.
 */
import { fileServer, type FileServerOptions } from "../src/static/mod.ts";

/**
 * Types of source files that a browser would not show: in the MIME database ".ts" is an MPEG
 * stream, and ".md" is offered as a download. Under a mount they are plain text.
 */
const SHOW_AS_TEXT = /^(video\/mp2t|text\/markdown)\b/;

/**
 * A handler for the paths below `prefix` ("/src"), serving `root`. Returns null for paths
 * outside the prefix, so mounts and the site's own file server can be tried in turn.
 */
export function mount(
  prefix: string,
  root: string,
  options: FileServerOptions = {},
): (request: Request) => Promise<Response> | null {
  const files = fileServer(root, { ...options, spa: false });
  return (request) => {
    const url = new URL(request.url);
    if (url.pathname === prefix) {
      return Promise.resolve(
        new Response(null, { status: 301, headers: { location: `${prefix}/${url.search}` } }),
      );
    }
    if (!url.pathname.startsWith(`${prefix}/`)) return null;
    const inner = new URL(url);
    inner.pathname = url.pathname.slice(prefix.length);
    return files(new Request(inner, request)).then((response) => relocate(response, prefix));
  };
}

/** Puts the prefix back into redirects; shows source files as plain text. */
function relocate(response: Response, prefix: string): Response {
  const headers = new Headers(response.headers);
  const location = headers.get("location");
  if (location?.startsWith("/") && !location.startsWith("//")) {
    headers.set("location", prefix + location);
  }
  if (SHOW_AS_TEXT.test(headers.get("content-type") ?? "")) {
    headers.set("content-type", "text/plain; charset=utf-8");
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
