/**
 * The request side of a connection: a head's bytes → the parsed head and its body's framing → the
 * handler (through its direct entry point when it has one) → the answer written → the body left
 * drained, or an error answer and the close.
 *
 * A step that may have to wait comes as a pair: `x` does it with its input in hand and returns at
 * once (a promise only when a later step must wait), `xLater` awaits its input, then calls `x`. So
 * a request the handler answers at once, with an answer only queued (most requests, and every one
 * of a pipelined batch), costs no promise.
 */
import { HttpError } from "../errors.ts";
import type { BufferedReader } from "../io/reader.ts";
import type { BufferedWriter } from "../io/writer.ts";
import { fieldTokens, parseHead, type RequestHead } from "../http1/parse.ts";
import {
  type BodyFraming,
  EMPTY_BODY,
  IncomingBody,
  requestFraming,
} from "../http1/request_body.ts";
import { buildRequest, requestView } from "../handler/request.ts";
import { type Answer, isAnswer } from "../handler/direct.ts";
import { dispatch, isResponse } from "../handler/dispatch.ts";
import type { RequestInfo } from "../handler/request_info.ts";
import {
  type EncodedFields,
  encodeError,
  encodeFields,
  type ResponseFraming,
} from "../http1/encode.ts";
import type { ConnContext, Peer } from "./context.ts";
import { arm, disarm, type Timeout } from "./deadlines.ts";
import { InFlight } from "./in_flight.ts";
import { type ResponseHost, ResponseWriter } from "./respond.ts";
import type { ConnState } from "./state.ts";
import { takeUpgrade, type UpgradeClaim } from "./upgrade.ts";

/** What the request side needs of its connection beyond the shared state. */
export interface ExchangeHost {
  /** Hands the socket to the protocol that claimed a 101 (the 101 is written). */
  handOver(claim: UpgradeClaim): void;
}

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** The framing of a 101: no body. */
const NO_FRAMING: ResponseFraming = { kind: "none" };

/** One connection's request side, made once per connection. */
export class Exchange implements ResponseHost {
  /** The request being served. */
  readonly inFlight: InFlight;
  /** Requests whose handler was called. */
  requests = 0;
  #ctx: ConnContext;
  #peer: Peer;
  #reader: BufferedReader;
  #writer: BufferedWriter;
  #state: ConnState;
  #timeout: Timeout;
  #host: ExchangeHost;
  #responses: ResponseWriter;

  constructor(
    ctx: ConnContext,
    peer: Peer,
    reader: BufferedReader,
    writer: BufferedWriter,
    state: ConnState,
    timeout: Timeout,
    host: ExchangeHost,
  ) {
    this.#ctx = ctx;
    this.#peer = peer;
    this.#reader = reader;
    this.#writer = writer;
    this.#state = state;
    this.#timeout = timeout;
    this.#host = host;
    this.#responses = new ResponseWriter(writer, this);
    this.inFlight = new InFlight(reader, writer, this.#responses);
  }

  /**
   * Answers the request whose head is `bytes[start, end)`. Returns whether the connection may
   * carry another: at once, with no promise, when the handler answered at once and the answer was
   * only queued. An error answer is queued for the serving loop's last flush.
   */
  serve(bytes: Uint8Array, start: number, end: number): boolean | Promise<boolean> {
    const limits = this.#ctx.limits;
    const state = this.#state;
    state.phase = "busy";

    let head: RequestHead;
    let framing: BodyFraming;
    try {
      head = parseHead(bytes, start, end, limits);
      framing = requestFraming(head, limits.maxBodyBytes);
    } catch (error) {
      this.fail(error, 1);
      return false;
    }

    const expect = fieldTokens(head, "expect");
    const expectContinue = expect.length === 1 && expect[0] === "100-continue" && head.minor === 1;
    if (expect.length > 0 && !expectContinue) {
      // RFC 9110 §10.1.1: a server that receives an Expect value it does not support MAY answer 417.
      this.fail(new HttpError(417, `unsupported expectation "${expect.join(", ")}"`), head.minor);
      return false;
    }
    const connection = fieldTokens(head, "connection");
    state.keepAlive = head.minor === 1
      ? !connection.includes("close")
      : connection.includes("keep-alive");

    const inFlight = this.inFlight;
    const info = inFlight.begin(this.#peer.remoteAddr, this.#peer.transport);
    const body = framing.kind === "none" ? EMPTY_BODY : new IncomingBody(
      this.#reader,
      framing,
      {
        maxBodyBytes: limits.maxBodyBytes,
        maxExtensionBytes: 4096,
        maxTrailerBytes: limits.maxHeaderBytes,
      },
      expectContinue ? () => this.#sendContinue() : null,
    );
    inFlight.body = body;

    let answered: Response | Answer | Promise<Response | Answer>;
    try {
      answered = this.#respond(head, framing, body, info);
    } catch (error) {
      // A bad target or method, a malformed body, or a handler beyond saving: an error answer,
      // and the connection closes.
      this.fail(error, head.minor);
      return false;
    }
    if (!(answered instanceof Promise)) return this.#answer(head, body, answered, expectContinue);
    inFlight.watch();
    return this.#answerLater(head, body, answered, expectContinue);
  }

  /** The handler has answered: the answer is written, then the body left is dealt with. */
  #answer(
    head: RequestHead,
    body: IncomingBody,
    response: Response | Answer,
    expectContinue: boolean,
  ): boolean | Promise<boolean> {
    // Decide the connection's fate before the head is written, so it can say `Connection: close`.
    const state = this.#state;
    if (state.draining) state.keepAlive = false;
    if (
      body.state === "unread" &&
      (expectContinue || body.remaining > this.#ctx.limits.maxDrainBytes)
    ) {
      // The client may be holding the body back for our 100 Continue, or the body is too large to
      // be worth reading: closing is cheaper than draining (RFC 9110 §10.1.1 allows either).
      state.keepAlive = false;
    }
    const written = this.#responses.write(head, response, state.keepAlive);
    return written instanceof Promise ? this.#nextLater(written, body) : this.#next(written, body);
  }

  /** `#answer` for a handler that answers in a promise (which may also fail, or time out). */
  async #answerLater(
    head: RequestHead,
    body: IncomingBody,
    answered: Promise<Response | Answer>,
    expectContinue: boolean,
  ): Promise<boolean> {
    let response: Response | Answer;
    try {
      response = await answered;
    } catch (error) {
      this.fail(error, head.minor);
      return false;
    }
    return await this.#answer(head, body, response, expectContinue);
  }

  /**
   * Ends the request once its response is written, and says whether the connection may carry
   * another (`complete` false: the response's end is the close, or its body was cut short): then
   * what the handler left of the request body is drained.
   */
  #next(complete: boolean, body: IncomingBody): boolean | Promise<boolean> {
    this.inFlight.answered();
    if (!complete || !this.#state.keepAlive) return false;
    return body.state === "done" ? true : this.#discardBody(body);
  }

  /** `#next` once a response that had to be written before the next one could be is out. */
  async #nextLater(written: Promise<boolean>, body: IncomingBody): Promise<boolean> {
    return await this.#next(await written, body);
  }

  /**
   * Reads and drops what the handler left of the body (within `maxDrainBytes` and
   * `headersTimeout`), so the next request can be read. False when it could not be.
   */
  async #discardBody(body: IncomingBody): Promise<boolean> {
    const limits = this.#ctx.limits;
    await this.#writer.flush();
    arm(this.#timeout, limits.headersTimeout, "idle");
    const drained = await body.drain(limits.maxDrainBytes);
    disarm(this.#timeout);
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
    const view = direct !== null && framing.kind === "none"
      ? requestView(head, ctx.scheme, this.#reader.receivedIn)
      : null;
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
    this.inFlight.request = request;
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
   * Answers with a 101 and hands the socket to the protocol that claimed the response
   * (conn/upgrade.ts), once the request's body, if any, is read: the bytes after it are the new
   * protocol's. A 101 nobody claimed (one from `Deno.upgradeWebSocket`) cannot be sent: 500.
   */
  async switchProtocols(head: RequestHead, response: Response): Promise<boolean> {
    const body = this.inFlight.body;
    const claim = takeUpgrade(response);
    response.body?.cancel().catch(() => {});
    if (claim === undefined) {
      console.error(
        "sockserve: a 101 response not made by sockserve's upgradeWebSocket()/upgrade() " +
          "cannot be sent (Deno.upgradeWebSocket works only under Deno.serve)",
      );
      this.fail(new HttpError(500, "Internal Server Error"), head.minor);
      return false;
    }
    if (head.minor === 0) {
      // The client's mistake: switching protocols needs HTTP/1.1 (RFC 9110 §7.8, RFC 6455 §4.1).
      this.fail(new HttpError(400, "switching protocols needs HTTP/1.1"), 0);
      return false;
    }
    if (body.state !== "done" && !(await this.#discardBody(body))) {
      this.fail(new HttpError(400, "the request body before the upgrade is unreadable"), 1);
      return false;
    }
    let fields: EncodedFields;
    try {
      fields = encodeFields(response.headers);
    } catch (error) {
      this.fail(error, head.minor);
      return false;
    }
    // The handler's Connection field is the engine's to write (encode.ts): a 101 says "upgrade".
    const switching = { ...fields, lines: `${fields.lines}connection: upgrade\r\n` };
    if (!this.#responses.queueHead(head, 101, response.statusText, switching, NO_FRAMING, true)) {
      return false;
    }
    await this.#writer.flush();
    this.inFlight.end(true);
    this.#host.handOver(claim);
    return false;
  }

  /** A body is about to be streamed to the client: one that leaves meanwhile is noticed. */
  watchPeer(): void {
    this.inFlight.watch();
  }

  /**
   * Queues an error answer with `Connection: close` (the caller then ends the serving loop, whose
   * last flush sends it). The request being served, if any, failed.
   */
  /** The body was cut short (shorter than declared, or the client left): the request failed. */
  responseCut(): void {
    this.inFlight.end(false);
  }

  fail(error: unknown, minor: number): void {
    this.inFlight.end(false);
    const httpError = error instanceof HttpError
      ? error
      : new HttpError(500, "Internal Server Error");
    this.#writer.queue(encodeError(minor, httpError, true));
  }

  async #sendContinue(): Promise<void> {
    await this.#writer.push(CONTINUE);
    await this.#writer.flush();
  }
}

/** What a direct handler may return: an `Answer`, null (declined), or `onError`'s `Response`. */
function isDirectOutcome(value: unknown): value is Answer | Response | null {
  return value === null || isAnswer(value) || isResponse(value);
}
