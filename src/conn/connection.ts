/**
 * One connection's life: read a head → build the Request → call the handler → write the Response
 * → keep alive or close, with the timeouts and limits of `Limits`.
 *
 * The loop never lets a connection go out of sync: a request whose framing is doubtful is answered
 * with an error and the connection is closed, and a body the handler did not read is drained
 * (within a bound) before the next head is read. Answers to pipelined requests are gathered and
 * leave in one write, flushed whenever the reader is about to wait on the socket.
 *
 * The parts: this serving loop, with the connection's state (state.ts) and its one timeout
 * (deadlines.ts); finding heads (head_reader.ts); the request side (exchange.ts), with the request
 * in flight (in_flight.ts) and response writing (respond.ts); the hand-off after a 101
 * (channel.ts).
 */
import { HttpError } from "../errors.ts";
import { type Socket, socketOf } from "../deno/socket.ts";
import { BufferedReader } from "../io/reader.ts";
import { BufferedWriter, type ByteSink } from "../io/writer.ts";
import { encodeError } from "../http1/encode.ts";
import { describePeer, readProxyHeader } from "../balancer/proxy_conn.ts";
import type { UpgradeClaim } from "./upgrade.ts";
import { ConnectionChannel } from "./channel.ts";
import type { ConnContext, Peer } from "./context.ts";
import { arm, disarm, type Expiring, newTimeout, ranOut, type Timeout } from "./deadlines.ts";
import { Exchange, type ExchangeHost } from "./exchange.ts";
import { HeadReader } from "./head_reader.ts";
import type { InFlight } from "./in_flight.ts";
import { isPeerError } from "./peer_errors.ts";
import { type ConnState, newState } from "./state.ts";

export type { ConnContext, Peer } from "./context.ts";

export class Connection implements Expiring, ExchangeHost, ByteSink {
  readonly peer: Peer;
  /** Where the connection is, whether it keeps alive, whether it is draining. */
  readonly state: ConnState = newState();
  /** Its one timeout, checked by `ctx.deadlines`. */
  readonly timeout: Timeout = newTimeout();
  #ctx: ConnContext;
  #reader: BufferedReader;
  #writer: BufferedWriter;
  /** Reads, writes and closes `conn` (src/deno/socket.ts). */
  #socket: Socket;
  #heads: HeadReader;
  #exchange: Exchange;
  #inFlight: InFlight;
  /** This connection's slot in `ctx.deadlines`, while it serves. */
  #deadlineSlot = -1;
  /** The socket handed over after a 101, or null. */
  #channel: ConnectionChannel | null = null;
  /** Whether the connection ended on an error of the engine's own (logged, and counted). */
  failed = false;
  /** The connection's slot in its server's registry of open connections (the server's to set). */
  slot = -1;

  /** `conn` itself is not kept: what serving it takes is in its socket (src/deno/socket.ts). */
  constructor(conn: Deno.Conn, peer: Peer, ctx: ConnContext) {
    this.peer = peer;
    this.#ctx = ctx;
    this.#socket = socketOf(conn);
    this.#reader = new BufferedReader(this.#socket);
    // The connection is its writer's sink (`write`): no object or closure of its own for that.
    this.#writer = new BufferedWriter(this);
    // Every read from the socket sends the answers queued so far first: whatever the reader is
    // about to wait for (a head, a body the handler reads, a PROXY header), no answer that is
    // ready waits with it. The serving loop flushes before its own waits; this catches the rest.
    this.#reader.flushFirst(this.#writer);
    this.#exchange = new Exchange(
      ctx,
      peer,
      this.#reader,
      this.#writer,
      this.state,
      this.timeout,
      this,
    );
    this.#inFlight = this.#exchange.inFlight;
    this.#heads = new HeadReader(
      this.#reader,
      this.#writer,
      ctx.limits,
      this.state,
      this.timeout,
      this.#exchange,
    );
    // Answers are gathered into whole writes already; Nagle would only hold back the last piece
    // of a streamed body (or a pipelined batch) waiting for an ACK.
    if (peer.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  }

  /** Serves requests until the peer leaves, an error closes the connection, or shutdown. */
  async serve(): Promise<void> {
    this.#deadlineSlot = this.#ctx.deadlines.add(this);
    const state = this.state;
    try {
      if (this.#ctx.proxyProtocol?.(this.peer.remoteAddr) && !(await this.#readProxyHeader())) {
        return;
      }
      const limits = this.#ctx.limits;
      const reader = this.#reader;
      const heads = this.#heads;
      const inFlight = this.#inFlight;
      const timeout = this.timeout;
      let first = true;
      while (!state.draining) {
        if (reader.buffered === 0 || reader.byteAt(0) === 0x0d && !heads.requestBuffered()) {
          // Idle: the answers queued so far leave, then the next request's first bytes are
          // awaited. A new connection waits `headersTimeout` for them, an idle one
          // `keepAliveTimeout`; empty lines do not restart that wait. (Awaited here, in the
          // loop's own frame: a function's frame and promise per request were a tenth of what a
          // small request allocated.)
          await this.#writer.flush();
          if (state.draining) break;
          state.phase = "idle";
          if (timeout.kind !== "idle" || timeout.deadline === Infinity) {
            arm(timeout, first ? limits.headersTimeout : limits.keepAliveTimeout, "idle");
          }
          let read = inFlight.pendingRead;
          if (read === null) read = inFlight.pendingRead = reader.startRead();
          const n = reader.filled(await read);
          inFlight.pendingRead = null;
          if (n === null) break;
          if (reader.byteAt(0) === 0x0d && !heads.requestBuffered()) continue;
          disarm(timeout);
        }
        // Usually the whole head is buffered (in the read just made, or pipelined): parsed where
        // it is, without a promise or a view.
        const end = heads.findHead();
        let served: boolean | Promise<boolean>;
        if (end !== -1) {
          const start = reader.offset;
          reader.consume(end - start);
          first = false;
          served = this.#exchange.serve(reader.buffer, start, end);
        } else {
          const headBytes = await heads.findHeadLater();
          first = false;
          if (headBytes === null) break;
          served = this.#exchange.serve(headBytes, 0, headBytes.length);
        }
        if (!(served instanceof Promise ? await served : served)) break;
      }
      await this.#writer.flush();
      // After a 101 the socket is the new protocol's until it (or shutdown) closes it.
      if (this.#channel !== null) await this.#channel.closed;
    } catch (error) {
      // A reset, a timeout that closed the socket, a write to a peer that left: this connection
      // ends here, and only this one, quietly. Anything else is the engine's own failure.
      if (state.phase !== "closed" && !isPeerError(error)) {
        this.failed = true;
        console.error(
          `sockserve: the connection with ${describePeer(this.peer.remoteAddr)} failed:`,
          error,
        );
      }
    } finally {
      this.close();
      // The loop has settled every read and write it started: the buffers can serve others.
      this.#reader.release();
      this.#writer.release();
      this.#ctx.ended?.(this);
    }
  }

  /** Requests whose handler was called on this connection. */
  get requests(): number {
    return this.#exchange.requests;
  }

  get bytesIn(): number {
    return this.#reader.bytesRead;
  }

  get bytesOut(): number {
    return this.#writer.bytesWritten;
  }

  /**
   * Starts a graceful close: an idle connection closes now, a busy one after its response, and
   * the protocol of an upgraded one is told (it closes, or the grace period's end closes it).
   */
  drain(): void {
    const state = this.state;
    if (state.draining) return;
    state.draining = true;
    if (state.phase === "idle") this.close();
    else if (state.phase === "upgraded") this.#channel!.shutdown();
  }

  /**
   * Closes the socket now. A request still being answered fails: its `completed` rejects and its
   * signal aborts.
   */
  close(): void {
    if (this.state.phase === "closed") return;
    this.state.phase = "closed";
    disarm(this.timeout);
    this.#ctx.deadlines.delete(this.#deadlineSlot);
    try {
      this.#socket.close();
    } catch {
      // already closed by the peer or by a timeout
    }
    this.#inFlight.end(false);
    this.#channel?.closedBySocket();
  }

  /**
   * Whether this connection's wait for its next request keeps the process alive (see
   * `HttpServer.unref`); a read under way in a request does until it ends.
   */
  ref(): void {
    this.#socket.ref();
  }

  unref(): void {
    this.#socket.unref();
  }

  /** Hands the socket to `claim`; the serving loop then waits for the channel to close. */
  handOver(claim: UpgradeClaim): void {
    this.state.phase = "upgraded";
    const pending = this.#inFlight.pendingRead;
    this.#inFlight.pendingRead = null;
    const channel = new ConnectionChannel(this.#reader, this.#writer, () => this.close(), pending);
    this.#channel = channel;
    try {
      claim(channel);
    } catch (error) {
      console.error("sockserve: the protocol an upgrade was handed to failed:", error);
      channel.close();
      return;
    }
    if (this.state.draining) channel.shutdown();
  }

  /**
   * Reads the PROXY protocol header before the first request (within `headersTimeout`); its
   * source becomes the client address. False (logged) when the connection must close instead.
   */
  async #readProxyHeader(): Promise<boolean> {
    arm(this.timeout, this.#ctx.limits.headersTimeout, "idle");
    const header = await readProxyHeader(this.#reader);
    disarm(this.timeout);
    if (typeof header === "string") {
      console.error(`sockserve: closing ${describePeer(this.peer.remoteAddr)}: ${header}`);
      return false;
    }
    if (header.source !== null) this.peer.remoteAddr = header.source;
    return true;
  }

  /**
   * One socket write under `writeTimeout`: a write waits only while the client does not read, so
   * a client that stops reading is let go of instead of holding its response forever. Each write
   * starts the timeout again, unless another one (a read's) is armed. Nothing is done when the
   * write ends: the ticker drops a write's timeout once the writer has no write in flight, so a
   * write costs no callback of its own.
   */
  write(bytes: Uint8Array): Promise<number> {
    const ms = this.#ctx.limits.writeTimeout;
    const timeout = this.timeout;
    if (ms > 0 && (timeout.deadline === Infinity || timeout.kind === "write")) {
      arm(timeout, ms, "write");
    }
    return this.#socket.write(bytes);
  }

  /** Called by the ticker: closes the connection (after a 408) once its armed timeout is over. */
  expireBy(now: number): void {
    const timeout = this.timeout;
    if (timeout.kind === "write" && !this.#writer.writing) {
      // The writes it was armed for are over (a streamed body may wait for its next chunk as
      // long as the handler likes).
      disarm(timeout);
      return;
    }
    if (!ranOut(timeout, now)) return;
    if (timeout.kind === "write") {
      this.close();
      return;
    }
    // Through the writer, after whatever it holds (a queued answer is never dropped): a 408 for a
    // head under way, then the close. The writes are bounded by the write timeout (by the head's
    // when there is none).
    if (timeout.kind === "head") {
      this.#writer.queue(
        encodeError(1, new HttpError(408, "request head not received in time"), true),
      );
    }
    const limits = this.#ctx.limits;
    arm(timeout, limits.writeTimeout > 0 ? limits.writeTimeout : limits.headersTimeout, "write");
    const close = () => this.close();
    this.#writer.flush().then(close, close);
  }
}
