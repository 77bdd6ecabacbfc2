/**
 * Clean URLs: pages are linked without their ".html". `/about` serves `about.html` when nothing is
 * at `/about` itself, and `/about.html` answers 301 to `/about`, so each page has one URL.
 * `/dir/index.html` moves to `/dir/`, which serves the index as before.
 */
import type { Answer } from "../handler/direct.ts";
import { plainAnswer } from "./responses.ts";

const HTML_SUFFIX = ".html";

/** Segments naming the page `segments` stands for, or null when the last one is ".html" already. */
export function htmlPageSegments(segments: readonly string[]): string[] | null {
  const last = segments.at(-1);
  if (last === undefined || last.endsWith(HTML_SUFFIX)) return null;
  return [...segments.slice(0, -1), last + HTML_SUFFIX];
}

/**
 * The 301 from a page's ".html" URL to its clean one (query kept), or null when `segments` does
 * not end in a ".html" name. As in `redirectToDirectory`, the Location is built from decoded,
 * re-encoded segments after one "/", so it can never read as `//host`.
 */
export function cleanUrlRedirect(segments: readonly string[], search: string): Answer | null {
  const last = segments.at(-1);
  if (last === undefined || !last.endsWith(HTML_SUFFIX) || last === HTML_SUFFIX) return null;
  const parents = segments.slice(0, -1).map(encodeURIComponent);
  const path = last === "index.html"
    ? parents.map((segment) => `${segment}/`).join("")
    : [...parents, encodeURIComponent(last.slice(0, -HTML_SUFFIX.length))].join("/");
  return plainAnswer(301, { location: `/${path}${search}` });
}
