/**
 * Kept-alive connections to one backend, for reuse by the next request: a connection whose
 * exchange ended cleanly goes back here, idle, for `IDLE_TIMEOUT_MS` at most; one that failed
 * in any way is closed instead. The most recently used idle connection is taken first (the one
 * least likely to have been closed by the backend's own idle timeout).
 */
import { runAfter } from "../../deno/timer.ts";
import type { Backend } from "./backend.ts";
import { BackendConnection } from "./client.ts";

/**
 * How long an idle connection is kept. Below the keep-alive timeouts of common backends (Node's
 * 5 s, sockserve's 5 s), so that the pool usually closes first; a connection the backend closed
 * anyway fails before any byte of a response, and a request without a body is retried.
 */
export const IDLE_TIMEOUT_MS = 4_000;
/** Idle connections kept per backend at most. */
export const MAX_IDLE_CONNECTIONS = 16;

interface Idle {
  connection: BackendConnection;
  cancelTimer: () => void;
}

export class BackendPool {
  readonly backend: Backend;
  #idle: Idle[] = [];
  #closed = false;
  #connect: (backend: Backend) => Promise<Deno.TcpConn>;

  constructor(
    backend: Backend,
    connect: (backend: Backend) => Promise<Deno.TcpConn> = (b) =>
      Deno.connect({ hostname: b.hostname, port: b.port }),
  ) {
    this.backend = backend;
    this.#connect = connect;
  }

  /** Idle connections held now. */
  get idle(): number {
    return this.#idle.length;
  }

  /** An idle connection if there is one, else a new one (`fresh` asks for a new one always). */
  async acquire(fresh = false): Promise<BackendConnection> {
    if (this.#closed) throw new Error("the proxy is shut down");
    if (!fresh) {
      const idle = this.#idle.pop();
      if (idle !== undefined) {
        idle.cancelTimer();
        return idle.connection;
      }
    }
    const conn = await this.#connect(this.backend);
    // A head and a small body leave in separate writes: without this the second waits on Nagle's
    // algorithm for the first one's (delayed) acknowledgement.
    conn.setNoDelay(true);
    if (this.#closed) {
      conn.close();
      throw new Error("the proxy is shut down");
    }
    return new BackendConnection(conn);
  }

  /** Takes a connection back after a clean exchange (`reusable`), or closes it. */
  release(connection: BackendConnection, reusable: boolean): void {
    if (!reusable || connection.closed || this.#closed) {
      connection.close();
      return;
    }
    if (this.#idle.length >= MAX_IDLE_CONNECTIONS) this.#drop(this.#idle[0]);
    const entry: Idle = {
      connection,
      cancelTimer: runAfter(IDLE_TIMEOUT_MS, () => this.#drop(entry)),
    };
    this.#idle.push(entry);
  }

  #drop(entry: Idle): void {
    const at = this.#idle.indexOf(entry);
    if (at !== -1) this.#idle.splice(at, 1);
    entry.cancelTimer();
    entry.connection.close();
  }

  /** Closes every idle connection; connections in use close when their exchange ends. */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#idle]) this.#drop(entry);
  }
}
