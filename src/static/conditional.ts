/**
 * Validators and conditional requests (RFC 9110 §8.8 and §13): ETag and Last-Modified for a
 * representation, the precondition order of §13.2.2, and If-Range (§13.1.5).
 */
import { imfFixdate } from "../http1/date.ts";
import type { RequestView } from "../handler/direct.ts";

/** The validators of one representation (one file, or one encoding of it). */
export interface Validators {
  /** An entity-tag, quoted, `W/` prefixed when weak. */
  etag: string;
  /** Last modification in epoch ms, whole seconds (HTTP dates have no finer resolution). */
  lastModified: number | null;
  /** The same as an IMF-fixdate, for the Last-Modified field. */
  lastModifiedField: string | null;
}

/**
 * Validators already made, by `stat` result. The file cache hands out the same `FileInfo` object
 * for as long as a file is unchanged, so a hot file's validators are made once, not per request
 * (formatting the date alone took 0.35 µs, 2% of a 1 KiB request); a fresh `stat` is a new key,
 * so they always follow the file.
 */
const made = new WeakMap<Deno.FileInfo, Validators>();

/**
 * Validators from file metadata. The tag is size and modification time in milliseconds, like
 * nginx's (but finer): cheap, no reading of content, and it changes whenever the file does. The
 * inode is left out on purpose (Apache's inode ETags were an information leak, CVE-2003-1418).
 * A `variant` (a content coding made on the fly) gets a weak tag: its bytes depend on the
 * compressor, so it is only semantically equivalent (§8.8.1).
 */
export function validatorsOf(info: Deno.FileInfo, variant?: string): Validators {
  let identity = made.get(info);
  if (identity === undefined) made.set(info, identity = identityValidators(info));
  return variant ? { ...identity, etag: `W/"${tagOf(info)}-${variant}"` } : identity;
}

function identityValidators(info: Deno.FileInfo): Validators {
  const lastModified = info.mtime ? Math.floor(info.mtime.getTime() / 1000) * 1000 : null;
  return {
    etag: `"${tagOf(info)}"`,
    lastModified,
    // IMF-fixdate, the preferred HTTP-date format (§5.6.7).
    lastModifiedField: lastModified === null ? null : imfFixdate(lastModified),
  };
}

function tagOf(info: Deno.FileInfo): string {
  const mtime = info.mtime?.getTime() ?? 0;
  return `${info.size.toString(16)}-${Math.floor(mtime).toString(16)}`;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * Parses the three HTTP-date formats recipients must accept (§5.6.7): IMF-fixdate, obsolete
 * RFC 850 and asctime, all GMT. `Date.parse` is not used: it reads asctime as local time and
 * accepts many things that are not HTTP-dates. Returns epoch milliseconds or null.
 */
export function parseHttpDate(value: string): number | null {
  const text = value.trim();
  let match = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/i.exec(text);
  let day: string, month: string, year: number, time: string[];
  if (match) {
    [day, month, year, time] = [match[1], match[2], Number(match[3]), match.slice(4, 7)];
  } else if (
    (match = /^[a-z]+, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/i.exec(text))
  ) {
    // Two-digit years: §5.6.7 says a year that looks more than 50 years ahead is in the past.
    const yy = Number(match[3]);
    const thisYear = new Date().getUTCFullYear();
    year = 2000 + yy > thisYear + 50 ? 1900 + yy : 2000 + yy;
    [day, month, time] = [match[1], match[2], match.slice(4, 7)];
  } else if (
    (match = /^[a-z]{3} ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i.exec(text))
  ) {
    [month, day, time, year] = [match[1], match[2].trim(), match.slice(3, 6), Number(match[6])];
  } else {
    return null;
  }
  const monthIndex = MONTHS.indexOf(month.toLowerCase());
  const [h, m, s] = time.map(Number);
  if (monthIndex < 0 || h > 23 || m > 59 || s > 60) return null;
  const ms = Date.UTC(year, monthIndex, Number(day), h, m, s);
  // Reject impossible days ("31 Feb") that Date.UTC would roll over into the next month.
  return new Date(ms).getUTCDate() === Number(day) ? ms : null;
}

/** Entity-tags of an If-Match / If-None-Match list; "*" is returned as null (matches any). */
function parseEntityTags(value: string): string[] | null {
  if (value.trim() === "*") return null;
  // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc may include "," so split by pattern.
  return value.match(/(?:W\/)?"[^"]*"/g) ?? [];
}

/** §8.8.3.2: strong comparison needs both tags strong and equal. */
function strongMatch(a: string, b: string): boolean {
  return !a.startsWith("W/") && a === b;
}

/** §8.8.3.2: weak comparison ignores the W/ prefix on either side. */
function weakMatch(a: string, b: string): boolean {
  return a.replace(/^W\//, "") === b.replace(/^W\//, "");
}

function matchesAny(header: string, etag: string, match: (a: string, b: string) => boolean) {
  const tags = parseEntityTags(header);
  return tags === null || tags.some((tag) => match(tag, etag));
}

/**
 * Evaluates preconditions in the order of §13.2.2 for a GET or HEAD of an existing file.
 * Returns 412 (a precondition failed), 304 (the client's copy is current) or null (proceed).
 */
export function evaluatePreconditions(
  headers: RequestView["headers"],
  validators: Validators,
): 304 | 412 | null {
  const lastModified = validators.lastModified;
  const ifMatch = headers.get("if-match");
  if (ifMatch !== null) {
    if (!matchesAny(ifMatch, validators.etag, strongMatch)) return 412;
  } else {
    const since = parseHeaderDate(headers.get("if-unmodified-since"));
    if (since !== null && lastModified !== null && lastModified > since) return 412;
  }
  const ifNoneMatch = headers.get("if-none-match");
  if (ifNoneMatch !== null) {
    if (matchesAny(ifNoneMatch, validators.etag, weakMatch)) return 304;
  } else {
    const since = parseHeaderDate(headers.get("if-modified-since"));
    if (since !== null && lastModified !== null && lastModified <= since) return 304;
  }
  return null;
}

/**
 * §13.1.5: a Range applies only if If-Range is absent or names the current representation, by a
 * strong entity-tag or by exactly its Last-Modified date.
 */
export function ifRangeHolds(headers: RequestView["headers"], validators: Validators): boolean {
  const ifRange = headers.get("if-range");
  if (ifRange === null) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) return strongMatch(value, validators.etag);
  const date = parseHttpDate(value);
  return date !== null && date === validators.lastModified;
}

function parseHeaderDate(value: string | null): number | null {
  return value === null ? null : parseHttpDate(value);
}
