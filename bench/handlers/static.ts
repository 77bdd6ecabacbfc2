/**
 * A minimal static file handler for `Deno.serve`: the peer for the static scenarios' memory
 * target ("no more than Deno.serve's file server"). It does what `serveFile` of Deno's standard
 * library does for a plain GET (which the benchmark cannot import: JSR is unreachable here):
 * resolve the path under the root, open and stat the file, and answer with its `ReadableStream`,
 * a Content-Length, a Content-Type and a Last-Modified. No ranges, no conditional requests, no
 * compression: the benchmark sends none of them.
 */

const TYPES: Record<string, string> = {
  html: "text/html; charset=UTF-8",
  txt: "text/plain; charset=UTF-8",
  bin: "application/octet-stream",
};

const plain = (status: number, text: string) =>
  new Response(text, { status, headers: { "content-type": "text/plain; charset=UTF-8" } });

/** A handler serving the files under `root` (a directory path). */
export function staticHandler(root: string): (request: Request) => Promise<Response> {
  const base = root.replace(/\/+$/, "");
  return async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") return plain(405, "405\n");
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return plain(400, "400\n");
    }
    // No way out of the root: no parent segments, no NUL.
    if (path.split("/").includes("..") || path.includes("\0")) return plain(400, "400\n");
    let file: Deno.FsFile;
    try {
      file = await Deno.open(`${base}${path}`, { read: true });
    } catch {
      return plain(404, "404\n");
    }
    const info = await file.stat();
    if (!info.isFile) {
      file.close();
      return plain(404, "404\n");
    }
    const headers = new Headers({
      "content-type": TYPES[path.slice(path.lastIndexOf(".") + 1)] ?? "application/octet-stream",
      "content-length": String(info.size),
    });
    if (info.mtime) headers.set("last-modified", info.mtime.toUTCString());
    if (request.method === "HEAD") {
      file.close();
      return new Response(null, { headers });
    }
    return new Response(file.readable, { headers });
  };
}
