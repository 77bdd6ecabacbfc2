/**
 * What the file server remembers between requests: where a URL path leads (its `realPath`), the
 * bytes of hot files, and their compressed copies. A remembered answer is used only while a
 * `stat` shows the very same file (device, inode, size, modification time): an edited, replaced
 * or re-linked file is seen at once, so ETags always follow the content.
 *
 * That `stat` is made once per read epoch (src/io/read_epoch.ts) and path: requests whose heads
 * had all arrived before a `stat` was made are answered from it, since it is newer than any of
 * them; a request that arrives later gets a `stat` of its own. Under load the requests of one
 * batch of reads share a `stat` (one `stat` a request cost the 1 KiB static scenario about a fifth
 * of its rate: 68k against 83–99k requests a second without it). Requests the engine cannot date
 * (a `Request` under Deno.serve) get a `stat` each.
 *
 * `realPath` and `open`+`read`+`close` were 14% and 13% of the 1 KiB static profile; a `stat` is
 * a fraction of either. For a 1 MiB file, sending kept bytes instead of reading the file again
 * took the CLI from 0.8× to 1.8× nginx's requests per second (nginx uses `sendfile`, which Deno
 * does not offer): the read was a copy per request, and the kept bytes leave in one `write`.
 */
import { currentEpoch } from "../io/read_epoch.ts";
import { WHOLE_READ_LIMIT } from "./body.ts";
import { candidatePath, type Resolved, resolveInRoot, type Root } from "./path.ts";

/**
 * Files up to this size have their bytes kept. Up to `WHOLE_READ_LIMIT` from their first read
 * (they are read whole anyway); larger ones from their second request, so that files read once
 * never push out hot ones (nginx's `open_file_cache min_uses`), and until then they are streamed.
 */
export const MAX_CACHED_FILE_BYTES = 1024 * 1024;
/** Bound of the bytes kept for all files together, and of the remembered paths. */
const MAX_CACHED_BYTES = 16 * 1024 * 1024;
const MAX_CACHED_PATHS = 4096;
/**
 * A file modified less than this long ago may be modified again within the same timestamp tick
 * (file times are coarse), with no visible change: its bytes are not kept until it has settled.
 */
const SETTLE_MS = 2000;

/** Directories with more entries than this are not listed (see `listingOf`). */
const MAX_LISTED_ENTRIES = 4096;
/** Bound of the names kept in all listings together (some megabytes). */
const MAX_LISTED_NAMES = 64 * 1024;

interface PathEntry {
  resolved: Resolved;
  info: Deno.FileInfo;
  /** The read epoch current when `info` was last confirmed by a `stat`. */
  checkedIn: number;
}

interface BytesEntry {
  info: Deno.FileInfo;
  bytes: Uint8Array<ArrayBuffer>;
}

/** True when two `stat`s describe the same unchanged file (never true where ino is unknown). */
export function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.ino !== null && a.ino === b.ino && a.dev === b.dev && a.size === b.size &&
    a.mtime?.getTime() === b.mtime?.getTime();
}

export class FileCache {
  #paths = new Map<string, PathEntry>();
  #bytes = new Map<string, BytesEntry>();
  #bytesHeld = 0;
  /** The key at the back of `#bytes` (the most recently used), or null. */
  #newest: string | null = null;
  /** Larger files (or coded copies) asked for once, with the `stat` of that time. */
  #candidates = new Map<string, Deno.FileInfo>();
  /** Directories' listings, by real path, with the `stat` they were listed after. */
  #listings = new Map<string, { info: Deno.FileInfo; listing: Listing | null }>();
  #listedNames = 0;
  #maxListedNames: number;

  /** `maxListedNames` bounds the names kept in all directory listings together. */
  constructor({ maxListedNames = MAX_LISTED_NAMES } = {}) {
    this.#maxListedNames = maxListedNames;
  }

  /** The names kept in directory listings now. */
  get listedNames(): number {
    return this.#listedNames;
  }

  /**
   * `resolveInRoot` and a `stat` of where it leads, remembered for regular files and directories.
   * A remembered resolution is reused only while the requested name still leads to the same file
   * or directory. Throws the file system's errors, as resolveInRoot and stat do.
   */
  resolve(root: Root, segments: readonly string[], receivedIn?: number): PathEntry | null {
    const found = this.#find(root, segments, receivedIn);
    return found === ABSENT ? null : found;
  }

  /**
   * `resolve`, telling a path that its directory's listing shows absent (`ABSENT`) apart.
   * `receivedIn` is the read epoch of the request (see the module's comment); without it the
   * path is `stat`ed whatever was remembered.
   */
  #find(
    root: Root,
    segments: readonly string[],
    receivedIn?: number,
  ): PathEntry | null | typeof ABSENT {
    const candidate = candidatePath(root, segments);
    const known = this.#paths.get(candidate);
    if (known !== undefined) {
      if (receivedIn !== undefined && receivedIn <= known.checkedIn) return known;
      const checkedIn = currentEpoch();
      const info = Deno.statSync(candidate);
      if (sameFile(known.info, info)) {
        known.checkedIn = checkedIn;
        return known;
      }
      this.#paths.delete(candidate);
    }
    if (this.#listedAbsent(root, segments)) return ABSENT;
    const checkedIn = currentEpoch();
    const resolved = resolveInRoot(root, segments);
    if (resolved === null) return null;
    const entry = { resolved, info: Deno.statSync(resolved.real), checkedIn };
    // Not other kinds (FIFOs, devices): they are never served, and a changing one is no concern.
    if (entry.info.isFile || entry.info.isDirectory) {
      remember(this.#paths, candidate, entry, MAX_CACHED_PATHS);
    }
    return entry;
  }

  /**
   * Whether nothing can be at `segments`, by the listing of the directory above (found through
   * this cache): the lookup that would find nothing costs Deno an exception, about 15 µs, and a
   * site's missing files (favicon.ico, scanners' guesses) are asked for all the time. A directory
   * above that cannot be listed, or is not there, leaves the answer to the lookup itself.
   */
  #listedAbsent(root: Root, segments: readonly string[]): boolean {
    // Deep paths are looked up directly: each level here is a call, and the stack is finite.
    if (segments.length === 0 || segments.length > MAX_LISTED_DEPTH) return false;
    let parent: PathEntry | null | typeof ABSENT;
    try {
      parent = this.#find(root, segments.slice(0, -1));
    } catch {
      return false; // the lookup will meet the same error, and report it
    }
    if (parent === ABSENT) return true; // nothing above, so nothing here
    // Refused (outside the root) or not a directory: the lookup decides, as it always did.
    if (parent === null || !parent.info.isDirectory) return false;
    const listing = this.listingOf(parent.resolved.real);
    return listing !== null && !listing.mayHave(segments[segments.length - 1]);
  }

  /**
   * The listing of the directory `dir` (a real path), as made when it was last seen with the same
   * `stat` and settled; null when that cannot be known (not a directory, changed too recently, too
   * many entries). One `stat` of the directory answers for all its names, where a lookup of a name
   * that is not there throws.
   */
  listingOf(dir: string): Listing | null {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(dir);
    } catch {
      return null;
    }
    // A directory changed within its timestamp's resolution could change again unseen; one
    // without an inode number (Windows) could not be told from another (see `sameFile`).
    if (!info.isDirectory || !isSettled(info) || info.ino === null) return null;
    let known = this.#listings.get(dir);
    if (known === undefined || !sameFile(known.info, info)) {
      const names: string[] = [];
      for (const entry of Deno.readDirSync(dir)) names.push(entry.name);
      // Remembered as "not known" when too large: memory stays bounded.
      known = { info, listing: names.length > MAX_LISTED_ENTRIES ? null : new Listing(names) };
      this.#keepListing(dir, known);
    }
    return known.listing;
  }

  /** Keeps a listing, dropping the oldest ones past the bounds on directories and names. */
  #keepListing(dir: string, known: { info: Deno.FileInfo; listing: Listing | null }): void {
    const sizeOf = (entry?: { listing: Listing | null }) => entry?.listing?.size ?? 0;
    this.#listedNames -= sizeOf(this.#listings.get(dir));
    this.#listings.delete(dir);
    while (
      this.#listings.size > 0 &&
      (this.#listings.size >= MAX_CACHED_PATHS ||
        this.#listedNames + sizeOf(known) > this.#maxListedNames)
    ) {
      const [oldest, entry] = this.#listings.entries().next().value!;
      this.#listedNames -= sizeOf(entry);
      this.#listings.delete(oldest);
    }
    this.#listings.set(dir, known);
    this.#listedNames += sizeOf(known);
  }

  /**
   * The bytes of the file: remembered from a read of the same unchanged file, or read now with
   * `readWhole` (a small file, or a larger one asked for again); null when a larger file should
   * be streamed instead. Shared, not copied: whoever hands them to code that may write into them
   * copies them first.
   */
  bytesOf(
    path: string,
    info: Deno.FileInfo,
    readWhole: () => Uint8Array<ArrayBuffer>,
  ): Uint8Array<ArrayBuffer> | null {
    const known = this.#kept(path, info);
    if (known !== null) return known;
    const settled = isSettled(info);
    if (info.size > WHOLE_READ_LIMIT) {
      if (!settled || info.size > MAX_CACHED_FILE_BYTES) {
        this.#candidates.delete(path);
        return null;
      }
      if (!this.#askedBefore(path, info)) return null;
    }
    const bytes = readWhole();
    if (settled && bytes.length === info.size && info.size <= MAX_CACHED_FILE_BYTES) {
      this.#keep(path, { info, bytes });
    }
    return bytes;
  }

  /**
   * The file's bytes in a content coding, kept from an earlier response of the same unchanged
   * file (`keepCoded`), or null. Shared, not copied, like `bytesOf`'s.
   */
  codedOf(path: string, info: Deno.FileInfo, coding: string): Uint8Array<ArrayBuffer> | null {
    return this.#kept(codedKey(path, coding), info);
  }

  /**
   * Keeps the file's bytes in a content coding, made while answering a request, so that the next
   * requests are answered without compressing again. The rules of `bytesOf`: a settled file, up
   * to the size of kept files, and one larger than `WHOLE_READ_LIMIT` from its second request.
   * `info` is the `stat` the bytes were made after.
   */
  keepCoded(path: string, info: Deno.FileInfo, coding: string, bytes: Uint8Array<ArrayBuffer>) {
    if (!isSettled(info) || bytes.length > MAX_CACHED_FILE_BYTES) return;
    const key = codedKey(path, coding);
    if (info.size > WHOLE_READ_LIMIT && !this.#askedBefore(key, info)) return;
    const known = this.#bytes.get(key);
    if (known !== undefined) this.#forget(key, known);
    this.#keep(key, { info, bytes });
  }

  /**
   * Whether the same unchanged file was asked for under `key` before: larger files are kept from
   * their second request, so that files asked for once never push out hot ones. Remembers this
   * request for the next.
   */
  #askedBefore(key: string, info: Deno.FileInfo): boolean {
    const seen = this.#candidates.get(key);
    this.#candidates.delete(key);
    if (seen !== undefined && sameFile(seen, info)) return true;
    remember(this.#candidates, key, info, MAX_CACHED_PATHS);
    return false;
  }

  /** The bytes kept under `key` if they were made from this very file; they move to the back. */
  #kept(key: string, info: Deno.FileInfo): Uint8Array<ArrayBuffer> | null {
    const known = this.#bytes.get(key);
    if (known === undefined) return null;
    if (!sameFile(known.info, info)) {
      this.#forget(key, known);
      return null;
    }
    // To the back: the least recently used go first. The last one kept or asked for is there
    // already, so a hot file costs no reordering.
    if (key !== this.#newest) {
      this.#forget(key, known);
      this.#keep(key, known);
    }
    return known.bytes;
  }

  #keep(path: string, entry: BytesEntry): void {
    while (this.#bytesHeld + entry.bytes.length > MAX_CACHED_BYTES) {
      const [oldest, old] = this.#bytes.entries().next().value!;
      this.#forget(oldest, old);
    }
    this.#bytes.set(path, entry);
    this.#bytesHeld += entry.bytes.length;
    this.#newest = path;
  }

  #forget(path: string, entry: BytesEntry): void {
    this.#bytes.delete(path);
    this.#bytesHeld -= entry.bytes.length;
    if (path === this.#newest) this.#newest = null;
  }
}

/** What `#find` answers for a path that a listing shows absent. */
const ABSENT: unique symbol = Symbol("absent");

/** Paths deeper than this are not checked against listings (see `#listedAbsent`). */
const MAX_LISTED_DEPTH = 32;

/**
 * The names in a directory, compared as loosely as any file system might: "A.txt" and "a.txt"
 * are one file on macOS and Windows, and so are "é" composed and decomposed. A name is only
 * reported absent when no entry could be it, so the listing never contradicts the file system.
 */
export class Listing {
  #exact: Set<string>;
  #folded = new Set<string>();

  constructor(names: readonly string[]) {
    this.#exact = new Set(names);
    for (const name of names) this.#folded.add(foldName(name));
  }

  /** How many names the directory had. */
  get size(): number {
    return this.#exact.size;
  }

  /** False when no entry of the directory can be `name`. */
  mayHave(name: string): boolean {
    return this.#exact.has(name) || this.#folded.has(foldName(name));
  }
}

/**
 * A name with case, accents and compatibility forms folded away: coarser than any file system's
 * own comparison (upper- then lower-casing folds "ß" with "ss", as case-insensitive ones do).
 */
export function foldName(name: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(name)) return name.toLowerCase();
  return name.normalize("NFKD").replace(/\p{M}/gu, "").toUpperCase().toLowerCase();
}

/** Whether a file was last modified long enough ago for its bytes to be kept (see SETTLE_MS). */
function isSettled(info: Deno.FileInfo): boolean {
  return (info.mtime?.getTime() ?? Infinity) < Date.now() - SETTLE_MS;
}

/** Where a coded copy is kept: a NUL never appears in a path, so keys never collide. */
function codedKey(path: string, coding: string): string {
  return `${path}\0${coding}`;
}

/** Adds to a map kept in insertion order, dropping the oldest entry when it is full. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}
