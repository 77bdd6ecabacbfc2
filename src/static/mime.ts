/**
 * Content types by file extension, from the maintained `mime-db` database (the one behind
 * `mime-types`, Express and most of npm) rather than a hand table that goes stale.
 *
 * The database is loaded by the first `fileServer()`, not when mod.ts is imported: its 2,300
 * entries are 4 MiB of resident memory that a server which never serves a file (an embedded
 * handler) should not pay. It is the JSON itself, not the package's CommonJS entry point: loading
 * that starts Deno's CommonJS loader, 5 MiB more.
 */

interface MimeEntry {
  source?: string;
  charset?: string;
  compressible?: boolean;
  extensions?: string[];
}

interface TypeInfo {
  /** The full Content-Type value, with `charset=utf-8` where the type carries text. */
  contentType: string;
  compressible: boolean;
}

const DEFAULT_TYPE: TypeInfo = { contentType: "application/octet-stream", compressible: false };

/**
 * Several types claim some extensions (".js": text/javascript and application/javascript); the
 * winner is chosen as `mime-score` does, minus its bonus for "application/" (which would make
 * ".mp4" application/mp4): standard facets over vnd./x-, IANA over Apache over nginx, then the
 * shorter name.
 */
function score(type: string, entry: MimeEntry): number {
  const subtype = type.slice(type.indexOf("/") + 1);
  const facet = /^(prs\.|x-|x\.|vnd\.)/.exec(subtype)?.[1];
  const facetScore = { "prs.": 100, "x-": 200, "x.": 300, "vnd.": 400 }[facet ?? ""] ?? 900;
  const sourceScore = { nginx: 10, apache: 20, iana: 40 }[entry.source ?? ""] ?? 30;
  return facetScore + sourceScore + (1 - type.length / 100);
}

/** Types whose bodies are text get a charset so browsers do not guess (and guess wrong). */
function isText(type: string, entry: MimeEntry): boolean {
  return type.startsWith("text/") || entry.charset?.toUpperCase() === "UTF-8";
}

/** Compressible per the database, plus textual types it has no opinion on. */
function isCompressible(type: string, entry: MimeEntry): boolean {
  return entry.compressible ?? (type.startsWith("text/") || /\+(json|xml)$/.test(type));
}

/** The table by extension, once `loadTypes` has settled. */
let byExtension: ReadonlyMap<string, TypeInfo> | null = null;
let loading: Promise<void> | null = null;

/** Loads the database and builds the table, once; `typeOf` works from when it has settled. */
export function loadTypes(): Promise<void> {
  return loading ??= import("mime-db/db.json", { with: { type: "json" } }).then((module) => {
    byExtension = buildTable(module.default);
  });
}

/** Whether `typeOf` can answer now. */
export function typesLoaded(): boolean {
  return byExtension !== null;
}

function buildTable(mimeDb: Record<string, MimeEntry>): ReadonlyMap<string, TypeInfo> {
  const best = new Map<string, { type: string; entry: MimeEntry; score: number }>();
  for (const [type, entry] of Object.entries(mimeDb)) {
    const typeScore = score(type, entry);
    for (const extension of entry.extensions ?? []) {
      const current = best.get(extension);
      if (!current || typeScore > current.score) {
        best.set(extension, { type, entry, score: typeScore });
      }
    }
  }
  const table = new Map<string, TypeInfo>();
  for (const [extension, { type, entry }] of best) {
    table.set(extension, {
      contentType: isText(type, entry) ? `${type}; charset=utf-8` : type,
      compressible: isCompressible(type, entry),
    });
  }
  return table;
}

/**
 * Type information for a file name; unknown extensions are opaque bytes. Throws when called before
 * `loadTypes` has settled (a file server waits for it).
 */
export function typeOf(fileName: string): TypeInfo {
  // A file server answers the same file over and over: the last answer is kept.
  if (fileName === lastFileName && byExtension !== null) return lastType;
  const type = typeFromName(fileName);
  lastFileName = fileName;
  lastType = type;
  return type;
}

let lastFileName = "";
let lastType: TypeInfo = DEFAULT_TYPE;

function typeFromName(fileName: string): TypeInfo {
  const base = fileName.slice(Math.max(fileName.lastIndexOf("/"), fileName.lastIndexOf("\\")) + 1);
  const dot = base.lastIndexOf(".");
  // ".bashrc" has no extension; "archive.tar.gz" has "gz".
  if (dot <= 0) return DEFAULT_TYPE;
  if (byExtension === null) throw new Error("typeOf called before loadTypes settled");
  return byExtension.get(base.slice(dot + 1).toLowerCase()) ?? DEFAULT_TYPE;
}
