/**
 * Reading a connection through the operation that Deno's own `Conn.read` wraps.
 *
 * `Conn.read` (Deno 2.9) adds each read's promise to a `Set`, kept so that `unref()` can reach
 * reads in flight, and deletes it once the read settles. Under keep-alive load, one connection's
 * Set is rehashed every few reads, and V8 keeps the entries of a hash table it replaced. Replaced
 * tables that reached the old generation kept each settled read's promise, and what had waited on
 * it (the request before), reachable for the young generation's collector, which copied and
 * promoted all of it: most of what survived a scavenge under hello-100, and why V8 grew its young
 * generation to 16 MiB semi-spaces (bench/README.md, Seventh round). sockserve never unrefs a
 * connection, so it calls that operation itself: `core.read(rid, buffer)`, which resolves to the
 * number of bytes read, 0 at the end of the stream, and rejects once the connection is closed.
 *
 * Like the other internals the engine reads (lazy_request.ts, body_source.ts), this is used only
 * where the pieces are there — Deno's `core.read`, and the connection's resource id under its
 * `Deno.internal.rid` symbol — and `tests/socket_source.test.ts` checks, over real sockets, that
 * it reads what `Conn.read` would. Anything else (a connection of another kind, a test's fake, a
 * Deno without these) is read through its own `read`.
 */
import { denoCore } from "./deno_core.ts";
import type { ByteSource } from "./io.ts";

const coreRead = typeof denoCore?.read === "function"
  ? denoCore.read as (rid: number, into: Uint8Array) => Promise<number>
  : null;

/**
 * The source to read `conn` from: its resource read directly, or `conn` itself. Either way a read
 * resolves to the number of bytes read, and the end of the stream is 0 or null.
 */
export function socketSource(conn: Deno.Conn): ByteSource {
  const rid = coreRead === null ? null : resourceId(conn);
  if (rid === null) return conn;
  return { read: (into) => coreRead!(rid, into) };
}

const refOp = typeof denoCore?.refOpPromise === "function"
  ? denoCore.refOpPromise as (promise: Promise<unknown>) => void
  : null;
const unrefOp = typeof denoCore?.unrefOpPromise === "function"
  ? denoCore.unrefOpPromise as (promise: Promise<unknown>) => void
  : null;

/**
 * Whether reads of `source` (from `socketSource(conn)`) keep the process alive, `read` (one in
 * flight, or null) included: an unref'd server's connections do not (`HttpServer.unref`). A
 * source that is the connection itself is told through its own `ref` and `unref`.
 */
export function refReads(
  conn: Deno.Conn,
  source: ByteSource,
  read: Promise<unknown> | null,
  refed: boolean,
): void {
  if (source === conn) {
    if (refed) conn.ref();
    else conn.unref();
  } else if (read !== null) {
    (refed ? refOp : unrefOp)?.(read);
  }
}

/** The symbol Deno keeps a connection's resource id under, once a connection has shown it. */
let ridSymbol: symbol | undefined;

/** The resource id Deno keeps on a connection of its own, or null. */
function resourceId(conn: Deno.Conn): number | null {
  // A connection whose `read` is its own (a wrapper, a test's fake) must be read through it.
  if (Object.hasOwn(conn, "read")) return null;
  const slots = conn as unknown as Record<symbol, unknown>;
  if (ridSymbol === undefined || !(ridSymbol in slots)) {
    const found = Object.getOwnPropertySymbols(conn)
      .find((candidate) => candidate.description === "Deno.internal.rid");
    if (found === undefined) return null;
    ridSymbol = found;
  }
  const rid = slots[ridSymbol];
  return typeof rid === "number" ? rid : null;
}
