/**
 * A connection's socket as the engine uses it: read, write, close. Two things about Deno live here.
 *
 * Reads through core's operation. `Conn.read` (Deno 2.8 and 2.9) adds each read's promise to a
 * `Set`, kept so that `unref()` can reach reads in flight, and deletes it once the read settles.
 * Under keep-alive load, one connection's Set is rehashed every few reads, and V8 keeps the
 * entries of a hash table it replaced. Replaced tables that reached the old generation kept each
 * settled read's promise, and what had waited on it (the request before), reachable for the young
 * generation's collector, which copied and promoted all of it: most of what survived a scavenge
 * under hello-100, and why V8 grew its young generation to 16 MiB semi-spaces. sockserve never
 * unrefs a connection, so it calls that operation itself: `core.read(rid, buffer)`, which resolves
 * to the number of bytes read, 0 at the end of the stream, and rejects once the connection is
 * closed. It does so where the fence allows internals (gate.ts), on a connection of Deno's own
 * whose resource id is under its `Deno.internal.rid` symbol, and once `checkSocketRead` (run when
 * the first server starts listening) has read with it over a loopback connection exactly what was
 * sent and then the end. Anything else is read through its own `read`.
 *
 * Closing with a read or a write in flight. From Deno 2.9.5, closing a connection rejects the read
 * and the write in flight on it. Deno 2.8.3 does neither and leaves the socket open, without a
 * FIN, until they complete (denoland/deno#35292); before 2.9.5, a write in flight (to a peer that
 * stopped reading) is not rejected either (denoland/deno#36369). A connection loop waiting on such
 * an operation then waits until the peer acts, and a graceful shutdown with it. Where Deno does
 * not (`CLOSE_SETTLES`), the socket settles what is in flight itself when closed: it sends the FIN
 * (`closeWrite`) when no write holds the socket, rejects the operations, unrefs them so that they
 * do not keep the process alive, and marks their buffers `lingering` — Deno may still read into or
 * write from them until the peer reads or leaves — so that no pool hands them to another
 * connection.
 */
import { denoCore } from "./core.ts";
/** The engine's view of a connection (io.ts's `ByteSource` and `ByteSink`, and `close`). */
export interface Socket {
  /** Reads into `into`: the number of bytes read; 0 or null is the end of the stream. */
  read(into: Uint8Array): Promise<number | null>;
  /** Writes from `bytes`: the number of bytes written (perhaps fewer than all). */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes the connection; a read or write in flight rejects. Throws if already closed. */
  close(): void;
  /** Reads (the one in flight and those after it) keep the process alive again. */
  ref(): void;
  /** Reads no longer keep the process alive (an unref'd server's, `HttpServer.unref`). */
  unref(): void;
}

type CoreRead = (rid: number, into: Uint8Array) => Promise<number>;
type CoreWrite = (rid: number, bytes: Uint8Array) => Promise<number>;
type CoreClose = (rid: number) => void;

/** core's read, write and close of a resource id, when this Deno has all three. */
interface CoreIo {
  read: CoreRead;
  write: CoreWrite;
  close: CoreClose;
}

const candidateIo: CoreIo | null = typeof denoCore?.read === "function" &&
    typeof denoCore?.write === "function" && typeof denoCore?.close === "function"
  ? {
    read: denoCore.read as CoreRead,
    write: denoCore.write as CoreWrite,
    close: denoCore.close as CoreClose,
  }
  : null;
const unrefOp = typeof denoCore?.unrefOpPromise === "function"
  ? denoCore.unrefOpPromise as (promise: Promise<unknown>) => void
  : null;
const refOp = typeof denoCore?.refOpPromise === "function"
  ? denoCore.refOpPromise as (promise: Promise<unknown>) => void
  : null;

/** core's read, write and close, once `checkSocketRead` passed; null before and where not used. */
let coreIo: CoreIo | null = null;

/** What closing a connection does to the operations in flight on it, on this Deno. */
export const CLOSE_SETTLES: CloseSettles = closeSettles(Deno.version.deno);

/** Which operations in flight closing a connection rejects. */
export interface CloseSettles {
  reads: boolean;
  writes: boolean;
}

/**
 * As measured (README.md in this folder): 2.9.5 and later 2.9 reject both; 2.9.0–2.9.4 and 2.7.14
 * reads only; 2.8.3 neither. Any other version is taken to reject neither, which is safe.
 */
export function closeSettles(version: string): CloseSettles {
  const [major, minor, patch] = version.split("-")[0].split(".").map(Number);
  if (major === 2 && minor === 9) return { reads: true, writes: patch >= 5 };
  if (major === 2 && minor === 7) return { reads: true, writes: false };
  return { reads: false, writes: false };
}

/**
 * The socket to serve `conn` through. On the fast path the socket keeps the resource id only, not
 * `conn`: Deno's connection object holds its two addresses, each made in dictionary mode with a
 * hidden class of its own, and with them an idle connection held about 850 bytes more (the
 * engine keeps a plain copy of the remote address instead).
 */
export function socketOf(conn: Deno.Conn): Socket {
  const io = coreIo;
  const rid = io === null ? null : resourceId(conn);
  const socket = rid === null ? conn : new CoreSocket(io!, rid);
  if (CLOSE_SETTLES.reads && CLOSE_SETTLES.writes) return socket;
  return new SettlingSocket(conn, socket, CLOSE_SETTLES);
}

/**
 * A connection read, written and closed through core's operations on its resource id (what
 * `Conn.read`, `write` and `close` call). `Conn.ref`/`unref` reach only `Conn.read`'s own reads,
 * so this one refs and unrefs its reads itself: the last one started (harmless once it has
 * settled), and each one after while unref'd.
 */
class CoreSocket implements Socket {
  /**
   * core's functions and the connection's resource id, kept apart: a function bound to the id was
   * a bound function with a property table of its own, about 380 bytes a connection.
   */
  #io: CoreIo;
  #rid: number;
  #refed = true;
  #last: Promise<number> | null = null;

  constructor(io: CoreIo, rid: number) {
    this.#io = io;
    this.#rid = rid;
  }

  read(into: Uint8Array): Promise<number> {
    const operation = this.#last = this.#io.read(this.#rid, into);
    if (!this.#refed) setOperationRef(operation, false);
    return operation;
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#io.write(this.#rid, bytes);
  }

  close(): void {
    this.#io.close(this.#rid);
  }

  ref(): void {
    this.#refed = true;
    if (this.#last !== null) setOperationRef(this.#last, true);
  }

  unref(): void {
    this.#refed = false;
    if (this.#last !== null) setOperationRef(this.#last, false);
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

/**
 * Buffers that an operation given up on by `SettlingSocket.close` may still read or write; made
 * when the first one is (the pools ask for every buffer they take back).
 */
let lingeringBuffers: WeakSet<ArrayBufferLike> | null = null;

/** Whether Deno may still read into or write from `bytes`' memory: it must not be reused. */
export function lingering(bytes: Uint8Array): boolean {
  return lingeringBuffers !== null && lingeringBuffers.has(bytes.buffer);
}

/** An operation in flight on a `SettlingSocket`. */
interface InFlight {
  promise: Promise<unknown>;
  bytes: Uint8Array;
  isWrite: boolean;
  reject: (error: Error) => void;
}

/**
 * A socket that settles its operations in flight itself when closed (see the top of the file). It
 * reads through `reads` (the connection itself, or a `CoreSocket` over it), which also refs
 * and unrefs those reads; it writes and closes through the connection.
 */
class SettlingSocket implements Socket {
  #conn: Deno.Conn;
  #reads: Socket;
  /** What Deno's own close settles: those operations are left to it. */
  #settles: CloseSettles;
  #inFlight = new Set<InFlight>();
  #closed = false;

  constructor(conn: Deno.Conn, reads: Socket, settles: CloseSettles) {
    this.#conn = conn;
    this.#reads = reads;
    this.#settles = settles;
  }

  read(into: Uint8Array): Promise<number | null> {
    const operation = this.#reads.read(into);
    return this.#settles.reads ? operation : this.#track(operation, into, false);
  }

  ref(): void {
    this.#reads.ref();
  }

  unref(): void {
    this.#reads.unref();
  }

  write(bytes: Uint8Array): Promise<number> {
    const operation = this.#conn.write(bytes);
    return this.#settles.writes ? operation : this.#track(operation, bytes, true);
  }

  #track<T>(operation: Promise<T>, bytes: Uint8Array, isWrite: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: InFlight = { promise: operation, bytes, isWrite, reject };
      this.#inFlight.add(entry);
      const settled = () => {
        this.#inFlight.delete(entry);
        lingeringBuffers?.delete(bytes.buffer);
      };
      operation.then((value) => {
        settled();
        resolve(value);
      }, (error) => {
        settled();
        reject(error);
      });
    });
  }

  close(): void {
    if (this.#closed) throw new Deno.errors.BadResource("the connection is closed already");
    this.#closed = true;
    const given = [...this.#inFlight];
    this.#inFlight.clear();
    if (given.length === 0) {
      this.#conn.close();
      return;
    }
    // None keeps the process alive: the reads are unref'd where they are made (a test's fake
    // connection may have no `unref`), writes here.
    this.#reads.unref?.();
    for (const entry of given) {
      if (entry.isWrite) unrefOperation(entry.promise);
      (lingeringBuffers ??= new WeakSet()).add(entry.bytes.buffer);
      entry.reject(new Deno.errors.Interrupted("operation canceled: the connection was closed"));
    }
    // Closing sends no FIN while an operation is in flight, and a read in flight here lasts until
    // the peer sends or leaves: the FIN is sent by `closeWrite`, which needs the connection open.
    // A write in flight holds the sending side until it ends (once the peer reads, or leaves), so
    // then the FIN and the close wait for it.
    const writes = given.filter((entry) => entry.isWrite).map((entry) => entry.promise);
    const finish = () => {
      try {
        this.#conn.closeWrite().catch(() => {});
        this.#conn.close();
      } catch {
        // closed already (the peer reset it)
      }
    };
    if (writes.length === 0) finish();
    else Promise.allSettled(writes).then(finish);
  }
}

/** Lets the event loop finish while `promise` (an operation's, where core can tell) is pending. */
function unrefOperation(promise: Promise<unknown>): void {
  setOperationRef(promise, false);
}

/** Whether the pending operation `promise` keeps the event loop alive; nothing once it settled. */
function setOperationRef(promise: Promise<unknown>, refed: boolean): void {
  try {
    (refed ? refOp : unrefOp)?.(promise);
  } catch {
    // not an operation's promise, or one that settled: nothing to change
  }
}

/** How long the loopback check may take before it counts as failed. */
const CHECK_LIMIT_MS = 1000;

let check: Promise<boolean> | null = null;

/**
 * Starts (once) and returns the check of core's read, write and close: over a loopback TCP
 * connection they must read the bytes sent, in order, then the end (as `Conn.read` does), send
 * bytes back, and close so that the peer sees them and then the end. True when it passed, and from
 * then on `socketOf` serves Deno's connections through them. False where the fence does not allow
 * internals, where listening on 127.0.0.1 is not permitted already (no prompt is made), or when
 * the check fails or takes over a second.
 */
export function checkSocketRead(): Promise<boolean> {
  return check ??= candidateIo === null ? Promise.resolve(false) : worksOverLoopback(
    candidateIo,
  ).then((passed) => {
    if (passed) coreIo = candidateIo;
    return passed;
  });
}

async function worksOverLoopback(io: CoreIo): Promise<boolean> {
  try {
    const permission = Deno.permissions.querySync({ name: "net", host: "127.0.0.1" });
    if (permission.state !== "granted") return false;
  } catch {
    return false;
  }
  const conns: (Deno.Listener | Deno.Conn)[] = [];
  const closeAll = () => {
    for (const conn of conns.splice(0)) {
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
  };
  const limit = AbortSignal.timeout(CHECK_LIMIT_MS);
  limit.addEventListener("abort", closeAll);
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    conns.push(listener);
    const client = await Deno.connect({
      hostname: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
    });
    conns.push(client);
    const server = await listener.accept();
    conns.push(server);
    const rid = resourceId(server);
    if (rid === null) return false;
    const sent = new Uint8Array([0x73, 0x6f, 0x63, 0x6b]);
    const into = new Uint8Array(16);
    const reading = io.read(rid, into);
    let written = 0;
    while (written < sent.length) written += await client.write(sent.subarray(written));
    await client.closeWrite();
    let got = await reading;
    while (got < sent.length) {
      const n = await io.read(rid, into.subarray(got));
      if (typeof n !== "number" || n <= 0) return false;
      got += n;
    }
    const end = await io.read(rid, into.subarray(got));
    if (got !== sent.length || !sent.every((byte, i) => into[i] === byte)) return false;
    if (end !== 0 && end !== null) return false;
    // And back: written through core, then closed through core (the connection is closed by then,
    // so `closeAll` must not close it again).
    const reply = new Uint8Array([0x73, 0x65, 0x72, 0x76]);
    for (let out = 0; out < reply.length;) out += await io.write(rid, reply.subarray(out));
    conns.splice(conns.indexOf(server), 1);
    io.close(rid);
    const back = await readToEnd(client, reply.length + 1);
    return back.length === reply.length && reply.every((byte, i) => back[i] === byte) &&
      !limit.aborted;
  } catch {
    return false;
  } finally {
    limit.removeEventListener("abort", closeAll);
    closeAll();
  }
}

/** What `conn` sends until its end, or until more than `max` bytes came. */
async function readToEnd(conn: Deno.Conn, max: number): Promise<Uint8Array> {
  const into = new Uint8Array(max);
  let got = 0;
  while (got < max) {
    const n = await conn.read(into.subarray(got));
    if (n === null) break;
    got += n;
  }
  return into.subarray(0, got);
}
