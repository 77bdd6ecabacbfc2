/** What the file server's answers are made from: the file found, and the options that shape them. */
import type { FileCache } from "./cache.ts";
import type { FieldList } from "../http1/field_list.ts";
import type { Root } from "./path.ts";

/** A regular file that passed the root checks: its real path and metadata. */
export interface FileTarget {
  path: string;
  info: Deno.FileInfo;
}

export interface FileResponseOptions {
  root: Root;
  /** Offer content codings (precompressed siblings and on the fly). */
  compress: boolean;
  /** Cache-Control for file responses, or null for none. */
  cacheControl: string | null;
  /** Status of a full response: 200, or 404 for a custom not-found page. */
  status?: number;
  /** Where hot files' bytes are kept between requests. */
  cache: FileCache;
  /** Fields every answer gets (nosniff, CORS, the configured ones), set last. */
  commonFields: readonly (readonly [string, string])[];
  /**
   * The fields of whole 200 answers, made once per unchanged file (under the `FileInfo` the file
   * cache hands out for as long as the file does not change) or per kept coded bytes, and shared.
   */
  sharedFields: WeakMap<Deno.FileInfo | Uint8Array, FieldList>;
  /** Markup injected into HTML files before `</body>` (inject.ts), or null/absent for none. */
  injectHtml?: string | null;
}
