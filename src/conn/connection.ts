/**
 * One connection's life: read a head → build the Request → call the handler → write the Response
 * → keep alive or close, with the timeouts and limits of `Limits`.
 *
 * The loop never lets a connection go out of sync: a request whose framing is doubtful is answered
 * with an error and the connection is closed, and a body the handler did not read is drained
 * (within a bound) before the next head is read. Answers to pipelined requests are gathered and
 * leave in one write, flushed whenever the reader is about to wait on the socket.
 */
import { HttpError } from "../errors.ts";
import { type Socket, socketOf } from "../deno/socket.ts";
import { BufferedReader, type Matcher } from "../io/reader.ts";
import { BufferedWriter } from "../io/writer.ts";
import {
  fieldTokens,
  findHeadEnd,
  HEAD_END_OVERLAP,
  incompleteHeadError,
  parseHead,
  type RequestHead,
} from "../http1/parse.ts";
import { type BodyFraming, IncomingBody, NO_BODY, requestFraming } from "../http1/request_body.ts";
import { buildRequest, requestView } from "../handler/request.ts";
import { type Answer, type DirectHandler, isAnswer } from "../handler/direct.ts";
import { dispatch, isResponse } from "../handler/dispatch.ts";
import {
  type EncodedFields,
  encodeError,
  encodeFields,
  type ResponseFraming,
} from "../http1/encode.ts";
import type { Limits, ServeHandler, Transport } from "../options.ts";
import { RequestInfo } from "../handler/request_info.ts";
import { abortRequest } from "../deno/request_signal.ts";
import { describePeer, type ProxyPolicy, readProxyHeader } from "../balancer/proxy_conn.ts";
import { takeUpgrade, type UpgradeClaim } from "./upgrade.ts";
import { ConnectionChannel } from "./channel.ts";
import { type DeadlineTicker, type Expiring, UNSTAMPED } from "./deadlines.ts";
import { isPeerError } from "./peer_errors.ts";
import { type ResponseHost, ResponseWriter } from "./respond.ts";

/** What every connection of one listener shares. */
export interface ConnContext {
  handler: ServeHandler;
  /** The handler's direct entry point (direct.ts), or null. */
  direct: DirectHandler | null;
  onError: (error: unknown) => Response | Promise<Response>;
  limits: Limits;
  /** "http" or "https": the scheme of the URLs handed to the handler. */
  scheme: string;
  /** Authority used when a request has no usable Host (HTTP/1.0): the listener's host:port. */
  defaultHost: string;
  /** Which peers must start with a PROXY protocol header; null: nobody (proxy_conn.ts). */
  proxyProtocol: ProxyPolicy | null;
  /** The clock that enforces every connection's timeouts. */
  deadlines: DeadlineTicker;
}

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** Where a connection is: between requests, in a head, serving one, handed over after a 101. */
type Phase = "idle" | "head" | "busy" | "upgraded" | "closed";

/** Who is at the other end of a connection. */
export interface Peer {
  /** The peer's address, or the client's that a PROXY protocol header gave. */
  remoteAddr: Deno.Addr;
  transport: Transport;
}

export class Connection implements Expiring, ResponseHost {
  readonly conn: Deno.Conn;
  readonly peer: Peer;
  #ctx: ConnContext;
  #reader: BufferedReader;
  #writer: BufferedWriter;
  #phase: Phase = "idle";
  /** Set by shutdown: finish the request in flight, then close instead of keeping alive. */
  #draining = false;
  /**
   * When the armed timeout expires (epoch ms), UNSTAMPED until the ticker has seen it, or Infinity
   * when none is armed; checked by `ctx.deadlines`.
   */
  #deadline = Infinity;
  /** The armed timeout's length in ms. */
  #timeout = 0;
  /** What the armed timeout is for, and so what its expiry does. */
  #armedFor: Wait = "idle";
  /** This connection's slot in `ctx.deadlines`, while it serves. */
  #deadlineSlot = -1;
  /**
   * The body of every request without one: it is done from the start and stays so (nothing reads
   * it), so one per connection serves them all.
   */
  #noBody: IncomingBody;
  /**
   * The handler's second argument: one object for the connection's requests, until a handler
   * reads its `completed` (a request's own from then on), so that a request costs no object.
   */
  #info: RequestInfo | null = null;
  /** Whether a request is being served (its info not settled yet). */
  #serving = false;
  /** The `Request` being served (its signal is aborted if the answer cannot be), or null. */
  #request: Request | null = null;
  /** The body of the request being served (or the last one). */
  #body: IncomingBody;
  /**
   * The read the serving loop waits on between requests, or one started while a handler works
   * on a request that has nothing more to read, so that a client that leaves is noticed (see
   * `watchPeer`): the loop's next wait is then on this one.
   */
  #pendingRead: Promise<number | null> | null = null;
  /** Reads, writes and closes `conn` (src/deno/socket.ts). */
  #socket: Socket;
  /** Set once the peer closed or reset the connection while a request was being answered. */
  #peerGone = false;
  #responses: ResponseWriter;
  /** The socket handed over after a 101, or null. */
  #channel: ConnectionChannel | null = null;
  /** Requests whose handler was called on this connection. */
  requests = 0;
  /** Whether the connection ended on an error of the engine's own (logged, and counted). */
  failed = false;

  constructor(conn: Deno.Conn, peer: Peer, ctx: ConnContext) {
    this.conn = conn;
    this.peer = peer;
    this.#ctx = ctx;
    this.#socket = socketOf(conn);
    this.#reader = new BufferedReader(this.#socket);
    this.#writer = new BufferedWriter({ write: (bytes) => this.#timedWrite(bytes) });
    // Every read from the socket sends the answers queued so far first: whatever the reader is
    // about to wait for (a head, a body the handler reads, a PROXY header), no answer that is
    // ready waits with it. The serving loop flushes before its own waits; this catches the rest.
    this.#reader.flushFirst(this.#writer);
    this.#responses = new ResponseWriter(this.#writer, this);
    this.#noBody = new IncomingBody(this.#reader, NO_BODY, NO_BODY_LIMITS, null);
    this.#body = this.#noBody;
    // Answers are gathered into whole writes already; Nagle would only hold back the last piece
    // of a streamed body (or a pipelined batch) waiting for an ACK.
    if (peer.transport === "tcp") (conn as Deno.TcpConn).setNoDelay(true);
  }

  /** Serves requests until the peer leaves, an error closes the connection, or shutdown. */
  async serve(): Promise<void> {
    this.#deadlineSlot = this.#ctx.deadlines.add(this);
    try {
      if (this.#ctx.proxyProtocol?.(this.peer.remoteAddr) && !(await this.#readProxyHeader())) {
        return;
      }
      const limits = this.#ctx.limits;
      let first = true;
      while (!this.#draining) {
        const reader = this.#reader;
        if (reader.buffered === 0 || reader.byteAt(0) === 0x0d && !this.#requestBuffered()) {
          // Idle: the answers queued so far leave, then the next request's first bytes are
          // awaited. A new connection waits `headersTimeout` for them, an idle one
          // `keepAliveTimeout`; empty lines do not restart that wait. (Awaited here, in the
          // loop's own frame: a function's frame and promise per request were a tenth of what a
          // small request allocated.)
          await this.#writer.flush();
          if (this.#draining) break;
          this.#phase = "idle";
          if (this.#armedFor !== "idle" || this.#deadline === Infinity) {
            this.#arm(first ? limits.headersTimeout : limits.keepAliveTimeout, "idle");
          }
          let read = this.#pendingRead;
          if (read === null) read = this.#pendingRead = reader.startRead();
          const n = reader.filled(await read);
          this.#pendingRead = null;
          if (n === null) break;
          if (reader.byteAt(0) === 0x0d && !this.#requestBuffered()) continue;
          this.#disarm();
        }
        // Usually the whole head is buffered (in the read just made, or pipelined): parsed where
        // it is, without a promise or a view.
        const end = this.#bufferedHeadEnd();
        let served: boolean | Promise<boolean>;
        if (end !== -1) {
          const start = reader.offset;
          reader.consume(end - start);
          first = false;
          served = this.#serveOne(reader.buffer, start, end);
        } else {
          const headBytes = await this.#readHead();
          first = false;
          if (headBytes === null) break;
          served = this.#serveOne(headBytes, 0, headBytes.length);
        }
        if (!(served instanceof Promise ? await served : served)) break;
      }
      await this.#writer.flush();
      // After a 101 the socket is the new protocol's until it (or shutdown) closes it.
      if (this.#channel !== null) await this.#channel.closed;
    } catch (error) {
      // A reset, a timeout that closed the socket, a write to a peer that left: this connection
      // ends here, and only this one, quietly. Anything else is the engine's own failure.
      if (this.#phase !== "closed" && !isPeerError(error)) {
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
    }
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
    if (this.#draining) return;
    this.#draining = true;
    if (this.#phase === "idle") this.close();
    else if (this.#phase === "upgraded") this.#channel!.shutdown();
  }

  /**
   * Closes the socket now. A request still being answered fails: its `completed` rejects and its
   * signal aborts.
   */
  close(): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#disarm();
    this.#ctx.deadlines.delete(this.#deadlineSlot);
    try {
      this.#socket.close();
    } catch {
      // already closed by the peer or by a timeout
    }
    this.#endRequest(false);
    this.#channel?.closedBySocket();
  }

  /**
   * Reads the PROXY protocol header before the first request (within `headersTimeout`); its
   * source becomes the client address. False (logged) when the connection must close instead.
   */
  async #readProxyHeader(): Promise<boolean> {
    this.#arm(this.#ctx.limits.headersTimeout, "idle");
    const header = await readProxyHeader(this.#reader);
    this.#disarm();
    if (typeof header === "string") {
      console.error(`sockserve: closing ${describePeer(this.peer.remoteAddr)}: ${header}`);
      return false;
    }
    if (header.source !== null) this.peer.remoteAddr = header.source;
    return true;
  }

  /**
   * Answers the request whose head is `bytes[start, end)`. Returns whether the connection may
   * carry another: at once, with no promise, when the handler answered at once and the answer was
   * only queued (most requests, and every one of a pipelined batch). An error answer is queued
   * for the serving loop's last flush.
   */
  #serveOne(bytes: Uint8Array, start: number, end: number): boolean | Promise<boolean> {
    const limits = this.#ctx.limits;
    this.#phase = "busy";

    let head: RequestHead;
    let framing: BodyFraming;
    try {
      head = parseHead(bytes, start, end, limits);
      framing = requestFraming(head, limits.maxBodyBytes);
    } catch (error) {
      this.queueFail(error, 1);
      return false;
    }

    const expect = fieldTokens(head, "expect");
    const expectContinue = expect.length === 1 && expect[0] === "100-continue" && head.minor === 1;
    if (expect.length > 0 && !expectContinue) {
      // RFC 9110 §10.1.1: a server that receives an Expect value it does not support MAY answer 417.
      this.queueFail(
        new HttpError(417, `unsupported expectation "${expect.join(", ")}"`),
        head.minor,
      );
      return false;
    }
    const connection = fieldTokens(head, "connection");
    const keepAlive = head.minor === 1
      ? !connection.includes("close")
      : connection.includes("keep-alive");

    let info = this.#info;
    if (info === null || !info.renew()) {
      info = this.#info = new RequestInfo(this.peer.remoteAddr, this.peer.transport);
    }
    this.#serving = true;
    const body = framing.kind === "none" ? this.#noBody : new IncomingBody(
      this.#reader,
      framing,
      {
        maxBodyBytes: limits.maxBodyBytes,
        maxExtensionBytes: 4096,
        maxTrailerBytes: limits.maxHeaderBytes,
      },
      expectContinue ? () => this.#sendContinue() : null,
    );
    this.#body = body;

    let answered: Response | Answer | Promise<Response | Answer>;
    try {
      answered = this.#respond(head, framing, body, info);
    } catch (error) {
      // A bad target or method, a malformed body, or a handler beyond saving: an error answer,
      // and the connection closes.
      this.queueFail(error, head.minor);
      return false;
    }
    if (!(answered instanceof Promise)) {
      return this.#answer(head, body, answered, keepAlive, expectContinue);
    }
    this.watchPeer();
    return this.#answerLater(head, body, answered, keepAlive, expectContinue);
  }

  /**
   * Starts the loop's next read now, while the handler works, when the request has nothing more
   * to read (its body, if any, is in hand) and nothing is buffered: it is the read the loop makes
   * next anyway, and a client that leaves meanwhile aborts the request's signal and the body
   * being streamed to it, as under Deno.serve. (A half-close counts as leaving, as with hyper.)
   */
  watchPeer(): void {
    if (
      this.#request === null || this.#body.state !== "done" || this.#pendingRead !== null ||
      this.#reader.buffered !== 0
    ) {
      return;
    }
    const read = this.#reader.startRead();
    this.#pendingRead = read;
    read.then((n) => {
      if (n === null || n === 0) this.#peerLeft();
    }, () => this.#peerLeft());
  }

  /** The peer closed or reset the connection before the answer was out. */
  #peerLeft(): void {
    this.#peerGone = true;
    if (this.#request !== null) abortRequest(this.#request);
    this.#responses.peerLeft();
  }

  /**
   * Ends the request being served: its info's `completed` settles (once the answer's bytes have
   * left, if a handler waits on it), and its signal aborts if the answer was not sent.
   */
  #endRequest(sent: boolean): void {
    if (!this.#serving) return;
    const info = this.#info!;
    const request = this.#request;
    this.#serving = false;
    this.#request = null;
    if (!sent || this.#peerGone) {
      if (request !== null) abortRequest(request);
      info.settle(false);
    } else if (info.awaited) {
      this.#writer.flush().then(() => info.settle(true), () => info.settle(false));
    } else {
      info.settle(true);
    }
  }

  /** `#answer` for a handler that answers in a promise (which may also fail, or time out). */
  async #answerLater(
    head: RequestHead,
    body: IncomingBody,
    answered: Promise<Response | Answer>,
    keepAlive: boolean,
    expectContinue: boolean,
  ): Promise<boolean> {
    let response: Response | Answer;
    try {
      response = await answered;
    } catch (error) {
      this.queueFail(error, head.minor);
      return false;
    }
    return await this.#answer(head, body, response, keepAlive, expectContinue);
  }

  /** The rest of `#serveOne` once the handler has answered: the answer, then the body left. */
  #answer(
    head: RequestHead,
    body: IncomingBody,
    response: Response | Answer,
    keepAlive: boolean,
    expectContinue: boolean,
  ): boolean | Promise<boolean> {
    // Decide the connection's fate before the head is written, so it can say `Connection: close`.
    if (this.#draining) keepAlive = false;
    if (
      body.state === "unread" &&
      (expectContinue || body.remaining > this.#ctx.limits.maxDrainBytes)
    ) {
      // The client may be holding the body back for our 100 Continue, or the body is too large to
      // be worth reading: closing is cheaper than draining (RFC 9110 §10.1.1 allows either).
      keepAlive = false;
    }
    const written = this.#responses.write(head, response, keepAlive);
    return written instanceof Promise
      ? this.#afterWrite(written, body, keepAlive)
      : this.#next(written, body, keepAlive);
  }

  /**
   * Answers with a 101 and hands the socket to the protocol that claimed the response
   * (conn/upgrade.ts), once the request's body, if any, is read: the bytes after it are the new
   * protocol's. A 101 nobody claimed (one from `Deno.upgradeWebSocket`) cannot be sent: 500.
   */
  async switchProtocols(head: RequestHead, response: Response): Promise<boolean> {
    const body = this.#body;
    const claim = takeUpgrade(response);
    response.body?.cancel().catch(() => {});
    if (claim === undefined || head.minor === 0) {
      console.error(
        claim === undefined
          ? "sockserve: a 101 response not made by sockserve's upgradeWebSocket()/upgrade() " +
            "cannot be sent (Deno.upgradeWebSocket works only under Deno.serve)"
          : "sockserve: a 101 response cannot answer an HTTP/1.0 request (RFC 9110 §7.8)",
      );
      this.queueFail(new HttpError(500, "Internal Server Error"), head.minor);
      return false;
    }
    if (body.state !== "done" && !(await this.#drain(body))) {
      this.queueFail(new HttpError(400, "the request body before the upgrade is unreadable"), 1);
      return false;
    }
    let fields: EncodedFields;
    try {
      fields = encodeFields(response.headers);
    } catch (error) {
      this.queueFail(error, head.minor);
      return false;
    }
    // The handler's Connection field is the engine's to write (encode.ts): a 101 says "upgrade".
    const switching = { ...fields, lines: `${fields.lines}connection: upgrade\r\n` };
    if (!this.#responses.queueHead(head, 101, response.statusText, switching, NO_FRAMING, true)) {
      return false;
    }
    await this.#writer.flush();
    this.#endRequest(true);
    this.#hand(claim);
    return false;
  }

  /** Hands the socket to `claim`; the serving loop then waits for the channel to close. */
  #hand(claim: UpgradeClaim): void {
    this.#phase = "upgraded";
    const pending = this.#pendingRead;
    this.#pendingRead = null;
    const channel = new ConnectionChannel(this.#reader, this.#writer, () => this.close(), pending);
    this.#channel = channel;
    try {
      claim(channel);
    } catch (error) {
      console.error("sockserve: the protocol an upgrade was handed to failed:", error);
      channel.close();
      return;
    }
    if (this.#draining) channel.shutdown();
  }

  /** `#next` once a response that had to be written before the next one could be is out. */
  async #afterWrite(
    written: Promise<boolean>,
    body: IncomingBody,
    keepAlive: boolean,
  ): Promise<boolean> {
    return await this.#next(await written, body, keepAlive);
  }

  /**
   * Whether the connection may carry another request once the response is written (`complete`
   * false: its body was cut short): then what the handler left of the request body is drained.
   */
  #next(complete: boolean, body: IncomingBody, keepAlive: boolean): boolean | Promise<boolean> {
    this.#endRequest(complete);
    if (!complete || !keepAlive) return false;
    return body.state === "done" ? true : this.#drain(body);
  }

  /** Reads and drops what the handler left of the body, so the next request can be read. */
  async #drain(body: IncomingBody): Promise<boolean> {
    const limits = this.#ctx.limits;
    await this.#writer.flush();
    this.#arm(limits.headersTimeout, "idle");
    const drained = await body.drain(limits.maxDrainBytes);
    this.#disarm();
    return drained;
  }

  /**
   * Calls the handler: through its direct entry point when it has one and the request is a plain
   * GET or HEAD, else (or when it declines) with a `Request`. The answer comes back at once when
   * the handler gave it at once (see `dispatch`).
   */
  #respond(
    head: RequestHead,
    framing: BodyFraming,
    body: IncomingBody,
    info: RequestInfo,
  ): Response | Answer | Promise<Response | Answer> {
    const ctx = this.#ctx;
    const direct = ctx.direct;
    const view = direct !== null && framing.kind === "none" ? requestView(head, ctx.scheme) : null;
    if (view === null) return this.#callHandler(head, framing, body, info);
    const outcome = dispatch(
      direct!,
      view,
      info,
      ctx.limits.requestTimeout,
      ctx.onError,
      isDirectOutcome,
    );
    return outcome instanceof Promise
      ? this.#takeLater(outcome, head, framing, body, info)
      : this.#take(outcome, head, framing, body, info);
  }

  /** A direct handler's outcome: its answer, or the handler's when it declined. */
  #take(
    outcome: Response | Answer | null,
    head: RequestHead,
    framing: BodyFraming,
    body: IncomingBody,
    info: RequestInfo,
  ): Response | Answer | Promise<Response | Answer> {
    if (outcome === null) return this.#callHandler(head, framing, body, info);
    this.requests++;
    return outcome;
  }

  async #takeLater(
    outcome: Promise<Response | Answer | null>,
    head: RequestHead,
    framing: BodyFraming,
    body: IncomingBody,
    info: RequestInfo,
  ): Promise<Response | Answer> {
    return await this.#take(await outcome, head, framing, body, info);
  }

  /** Builds the `Request` and calls the handler with it. */
  #callHandler(
    head: RequestHead,
    framing: BodyFraming,
    body: IncomingBody,
    info: RequestInfo,
  ): Response | Promise<Response> {
    const ctx = this.#ctx;
    const stream = framing.kind === "none" ? null : body.stream();
    const request = buildRequest(head, stream, ctx.scheme, ctx.defaultHost);
    this.#request = request;
    this.requests++;
    return dispatch(
      ctx.handler,
      request,
      info,
      ctx.limits.requestTimeout,
      ctx.onError,
      isResponse,
    );
  }

  /**
   * Skips the empty lines before a request line (RFC 9112 §2.2: some clients send a CRLF after a
   * request) and says whether a request's first bytes are buffered. A lone CR may be the start
   * of one more empty line: it waits for the byte after it.
   */
  #requestBuffered(): boolean {
    const reader = this.#reader;
    for (;;) {
      const first = reader.byteAt(0);
      if (first === undefined) return false;
      if (first !== 0x0d) return true;
      const second = reader.byteAt(1);
      if (second === undefined) return false;
      // A CR without its LF is no empty line: the parser refuses it.
      if (second !== 0x0a) return true;
      reader.consume(2);
    }
  }

  /**
   * Where a complete head already buffered ends (in the reader's buffer), or -1 when `#readHead`
   * must wait for the rest of it or decide: what it would find first, without its promise.
   */
  #bufferedHeadEnd(): number {
    // A CR that starts no empty line, and heads over the limits, are #readHead's to refuse.
    if (this.#reader.byteAt(0) === 0x0d) return -1;
    try {
      return this.#reader.findBuffered(this.#matchHead, Infinity);
    } catch {
      return -1;
    }
  }

  /**
   * Reads the rest of a head whose first bytes are buffered, within `headersTimeout` (a 408
   * then). Returns null when the connection should end quietly.
   */
  async #readHead(): Promise<Uint8Array | null> {
    // The answers queued so far leave first, under the write timeout, not the head's.
    if (this.#writer.pendingBytes !== 0) await this.#writer.flush();
    this.#phase = "head";
    this.#arm(this.#ctx.limits.headersTimeout, "head");
    let result;
    try {
      // What is buffered is looked at first, then what each read adds.
      result = await this.#reader.readMatch(this.#matchHead, Infinity, HEAD_END_OVERLAP);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      await this.#fail(error, 1);
      return null;
    } finally {
      this.#disarm();
    }
    return result.status === "found" ? result.bytes : null;
  }

  /** Finds the end of the head, and refuses one that grows past the limits before it ends. */
  #matchHead: Matcher = (buf, start, from, to) => {
    const end = findHeadEnd(buf, start, from, to);
    if (end !== -1) return end;
    const error = incompleteHeadError(buf, start, to, this.#ctx.limits);
    if (error) throw error;
    return -1;
  };

  async #sendContinue(): Promise<void> {
    await this.#writer.push(CONTINUE);
    await this.#writer.flush();
  }

  /** Answers with an error status and `Connection: close` (the caller then ends the loop). */
  async #fail(error: unknown, minor: number): Promise<void> {
    this.queueFail(error, minor);
    await this.#writer.flush();
  }

  /**
   * Queues the error answer of `#fail`; the serving loop's last flush sends it. The request being
   * served, if any, failed.
   */
  queueFail(error: unknown, minor: number): void {
    this.#endRequest(false);
    const httpError = error instanceof HttpError
      ? error
      : new HttpError(500, "Internal Server Error");
    this.#writer.queue(encodeError(minor, httpError, true));
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

  /**
   * One socket write under `writeTimeout`: a write waits only while the client does not read, so
   * a client that stops reading is let go of instead of holding its response forever. Each write
   * starts the timeout again, unless another one (a read's) is armed. Nothing is done when the
   * write ends: the ticker drops a write's timeout once the writer has no write in flight, so a
   * write costs no callback of its own.
   */
  #timedWrite(bytes: Uint8Array): Promise<number> {
    const timeout = this.#ctx.limits.writeTimeout;
    if (timeout > 0 && (this.#deadline === Infinity || this.#armedFor === "write")) {
      this.#arm(timeout, "write");
    }
    return this.#socket.write(bytes);
  }

  /**
   * Arms the connection's one timeout, for what the connection waits on. Field writes, not a
   * timer and not even a clock read: `ctx.deadlines` stamps the deadline the first time it sees
   * the timeout armed, and checks it after that (a setTimeout/clearTimeout pair per request cost
   * 7.6% of the hello-world profile, reading the clock at each arm 8%).
   */
  #arm(ms: number, armedFor: Wait): void {
    this.#deadline = UNSTAMPED;
    this.#timeout = ms;
    this.#armedFor = armedFor;
  }

  #disarm(): void {
    this.#deadline = Infinity;
  }

  /** Called by the ticker: closes the connection (after a 408) once its armed timeout is over. */
  expireBy(now: number): void {
    if (this.#armedFor === "write" && !this.#writer.writing) {
      // The writes it was armed for are over (a streamed body may wait for its next chunk as
      // long as the handler likes).
      this.#disarm();
      return;
    }
    if (this.#deadline === UNSTAMPED) {
      // Armed since the last tick: the timeout counts from now, so it never fires early.
      this.#deadline = now + this.#timeout;
      return;
    }
    if (now < this.#deadline) return;
    this.#deadline = Infinity;
    if (this.#armedFor === "write") {
      this.close();
      return;
    }
    // Through the writer, after whatever it holds (a queued answer is never dropped): a 408 for a
    // head under way, then the close. The writes are bounded by the write timeout (by the head's
    // when there is none).
    if (this.#armedFor === "head") {
      this.#writer.queue(
        encodeError(1, new HttpError(408, "request head not received in time"), true),
      );
    }
    const limits = this.#ctx.limits;
    this.#arm(limits.writeTimeout > 0 ? limits.writeTimeout : limits.headersTimeout, "write");
    const close = () => this.close();
    this.#writer.flush().then(close, close);
  }
}

/** The framing of a 101: no body. */
const NO_FRAMING: ResponseFraming = { kind: "none" };

/** The limits of `#noBody`, which never reads anything. */
const NO_BODY_LIMITS = { maxBodyBytes: 0, maxExtensionBytes: 0, maxTrailerBytes: 0 };

/**
 * What a connection's timeout was armed for: the next request (`idle`, also a body left to
 * drain and a PROXY header), the rest of a head under way (`head`: a 408 answers its expiry), or
 * a write the client does not take in (`write`).
 */
type Wait = "idle" | "head" | "write";

/** What a direct handler may return: an `Answer`, null (declined), or `onError`'s `Response`. */
function isDirectOutcome(value: unknown): value is Answer | Response | null {
  return value === null || isAnswer(value) || isResponse(value);
}
