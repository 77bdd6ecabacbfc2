/**
 * HTML with markup injected (the dev server's live-reload script): the page's bytes with the
 * markup before its last `</body>`, or at the end when it has none. The injected document is a
 * representation of its own: its ETag is the file's with a suffix (so a cached copy of the plain
 * file never validates it, nor the other way round), its Content-Length is the injected length,
 * and it is always sent whole and uncoded: a Range or a content coding of the file's bytes would
 * not describe these bytes, so Range is ignored (a full 200, as RFC 9110 §14.2 allows) and
 * precompressed siblings are not used.
 */
import type { Answer, RequestView } from "../handler/direct.ts";
import { FieldList } from "../http1/field_list.ts";
import { readWhole } from "./body.ts";
import { evaluatePreconditions, type Validators, validatorsOf } from "./conditional.ts";
import type { FileResponseOptions, FileTarget } from "./file_target.ts";
import { plainAnswer } from "./responses.ts";

/** What the injected representation's entity-tag gets after the file's. */
const ETAG_SUFFIX = "-injected";

const encoder = new TextEncoder();

/** `html` with `markup` before the last `</body>` (any case), or appended. */
export function injectMarkup(html: Uint8Array, markup: string): Uint8Array<ArrayBuffer> {
  const insert = encoder.encode(markup);
  const at = lastBodyClose(html);
  const out = new Uint8Array(html.length + insert.length);
  out.set(html.subarray(0, at));
  out.set(insert, at);
  out.set(html.subarray(at), at + insert.length);
  return out;
}

/** Index of the last `</body` (ASCII case-insensitive), or the length when there is none. */
function lastBodyClose(html: Uint8Array): number {
  const tag = [0x3c, 0x2f, 0x62, 0x6f, 0x64, 0x79]; // "</body"
  for (let i = html.length - tag.length; i >= 0; i--) {
    let j = 0;
    // Letters compare with their case bit set: "B" | 0x20 is "b"; "<" and "/" are compared as is.
    while (j < tag.length && (j < 2 ? html[i + j] : html[i + j] | 0x20) === tag[j]) j++;
    if (j === tag.length) return i;
  }
  return html.length;
}

/** The validators of the injected representation of a file. */
export function injectedValidators(info: Deno.FileInfo): Validators {
  const file = validatorsOf(info);
  return { ...file, etag: `${file.etag.slice(0, -1)}${ETAG_SUFFIX}"` };
}

/** Answers GET or HEAD for an HTML file with `markup` injected. */
export function injectedAnswer(
  request: RequestView,
  target: FileTarget,
  contentType: string,
  markup: string,
  options: FileResponseOptions,
): Answer {
  const status = options.status ?? 200;
  const validators = injectedValidators(target.info);
  const headers = new FieldList();
  if (status === 200) {
    const precondition = evaluatePreconditions(request.headers, validators);
    if (precondition === 412) return plainAnswer(412);
    headers.set("etag", validators.etag);
    if (options.cacheControl !== null) headers.set("cache-control", options.cacheControl);
    if (precondition === 304) return { status: 304, headers, body: null };
    if (validators.lastModifiedField !== null) {
      headers.set("last-modified", validators.lastModifiedField);
    }
  }
  const bytes = injectMarkup(readWhole(target.path, target.info.size), markup);
  headers.set("content-type", contentType);
  headers.set("content-length", String(bytes.length));
  return { status, headers, body: request.method === "HEAD" ? null : { kind: "bytes", bytes } };
}
