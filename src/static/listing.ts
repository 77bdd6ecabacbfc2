/**
 * Directory listings, as HTML for people and as JSON for programs (chosen by `Accept`). Every
 * name is untrusted input: HTML-escaped in text, percent-encoded in links, and the page is served
 * with a Content-Security-Policy that forbids scripts, so a file named `<script>` stays text.
 */
import { mediaTypeWeight } from "./negotiate.ts";
import { hasHiddenSegment, joinBelow, resolvePath, type Root } from "./path.ts";

export interface ListingEntry {
  name: string;
  type: "file" | "directory" | "other";
  /** Bytes, for files; null for directories and entries that could not be stat'ed. */
  size: number | null;
  modified: Date | null;
}

/**
 * Reads a directory's entries as the file server would serve them: hidden names only if allowed,
 * symlinks followed for type and size but left out when they lead where a request could not go
 * (outside the root, or into a hidden directory), so a listing reveals nothing a GET would not.
 * A broken link is listed as "other". Sorted directories first, then by name in code-point
 * order, so the order is the same on every machine and locale.
 */
export async function readListing(
  root: Root,
  dir: string,
  showHidden: boolean,
): Promise<ListingEntry[]> {
  const found: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (showHidden || !entry.name.startsWith(".")) found.push(entry);
  }
  const entries = await Promise.all(found.map(async (entry): Promise<ListingEntry | null> => {
    const { name } = entry;
    try {
      let path = joinBelow(dir, [name]);
      if (entry.isSymlink) {
        const resolved = resolvePath(root, path);
        if (!resolved) return null;
        if (!showHidden && resolved.relative && hasHiddenSegment(resolved.relative)) return null;
        path = resolved.real;
      }
      const info = await Deno.stat(path);
      const type = info.isDirectory ? "directory" : info.isFile ? "file" : "other";
      return { name, type, size: info.isFile ? info.size : null, modified: info.mtime };
    } catch {
      return { name, type: "other", size: null, modified: null };
    }
  }));
  return entries.filter((entry) => entry !== null).sort((a, b) =>
    Number(b.type === "directory") - Number(a.type === "directory") ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

/** True when the client ranks JSON above HTML (`Accept: application/json`). */
export function prefersJson(accept: string | null): boolean {
  if (accept === null) return false;
  return mediaTypeWeight(accept, "application/json") > mediaTypeWeight(accept, "text/html");
}

/** The listing of the directory at URL path `segments` (decoded, root-relative). */
export function listingJson(segments: readonly string[], entries: ListingEntry[]): string {
  return JSON.stringify({
    path: urlPath(segments),
    entries: entries.map((entry) => ({
      ...entry,
      modified: entry.modified?.toISOString() ?? null,
    })),
  });
}

export function listingHtml(segments: readonly string[], entries: ListingEntry[]): string {
  const title = `Index of ${escapeHtml(urlPath(segments))}`;
  const rows = entries.map((entry) => {
    const slash = entry.type === "directory" ? "/" : "";
    const href = encodeURIComponent(entry.name) + slash;
    return `<tr><td><a href="${href}">${escapeHtml(entry.name + slash)}</a></td>` +
      `<td>${entry.size === null ? "-" : formatSize(entry.size)}</td>` +
      `<td>${entry.modified ? formatTime(entry.modified) : "-"}</td></tr>`;
  });
  if (segments.length > 0) {
    rows.unshift(`<tr><td><a href="../">../</a></td><td></td><td></td></tr>`);
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}td{padding:.2em 1.5em .2em 0}td:nth-child(2){text-align:right}</style>
</head>
<body>
<h1>${title}</h1>
<table>
<thead><tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</body>
</html>
`;
}

/** The page's policy: inline style only; nothing else loads or runs. */
export const LISTING_CSP = "default-src 'none'; style-src 'unsafe-inline'";

function urlPath(segments: readonly string[]): string {
  return segments.length === 0 ? "/" : `/${segments.join("/")}/`;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatTime(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ");
}
