/**
 * The request a connection is serving, as Deno.serve's handler sees it: its `RequestInfo` (whose
 * `completed` settles when the answer has left, or failed), its `Request` (whose signal aborts if
 * the answer cannot be sent), and the watch on the peer that notices a client that leaves while
 * the handler works.
 */
import type { BufferedReader } from "../io/reader.ts";
import type { BufferedWriter } from "../io/writer.ts";
import { EMPTY_BODY, type IncomingBody } from "../http1/request_body.ts";
import { RequestInfo } from "../handler/request_info.ts";
import { abortRequest } from "../deno/request_signal.ts";
import type { Transport } from "../options.ts";
import type { ResponseWriter } from "./respond.ts";

export class InFlight {
  #reader: BufferedReader;
  #writer: BufferedWriter;
  #responses: ResponseWriter;
  /** The body of the request being served (or the last one). */
  body: IncomingBody = EMPTY_BODY;
  /** The `Request` being served (its signal is aborted if the answer cannot be), or null. */
  request: Request | null = null;
  /**
   * The read the serving loop waits on between requests, or one started while a handler works
   * on a request that has nothing more to read, so that a client that leaves is noticed (see
   * `watch`): the loop's next wait is then on this one.
   */
  pendingRead: Promise<number | null> | null = null;
  /**
   * The handler's second argument: one object for the connection's requests, until a handler
   * reads its `completed` (a request's own from then on), so that a request costs no object.
   */
  #info: RequestInfo | null = null;
  /** Set once the peer closed or reset the connection while a request was being answered. */
  #peerGone = false;

  constructor(reader: BufferedReader, writer: BufferedWriter, responses: ResponseWriter) {
    this.#reader = reader;
    this.#writer = writer;
    this.#responses = responses;
  }

  /** Starts serving a request from `remoteAddr`: the info to hand its handler. */
  begin(remoteAddr: Deno.Addr, transport: Transport): RequestInfo {
    let info = this.#info;
    if (info === null || info.claimed) info = this.#info = new RequestInfo(remoteAddr, transport);
    info.pending = true;
    return info;
  }

  /**
   * Starts the loop's next read now, while the handler works, when the request has nothing more
   * to read (its body, if any, is in hand) and nothing is buffered: it is the read the loop makes
   * next anyway, and a client that leaves meanwhile aborts the request's signal and the body
   * being streamed to it, as under Deno.serve. (A half-close counts as leaving, as with hyper.)
   */
  watch(): void {
    if (
      this.request === null || this.body.state !== "done" || this.pendingRead !== null ||
      this.#reader.buffered !== 0
    ) {
      return;
    }
    const read = this.#reader.startRead();
    this.pendingRead = read;
    read.then((n) => {
      if (n === null || n === 0) this.#peerLeft();
    }, () => this.#peerLeft());
  }

  /** The peer closed or reset the connection before the answer was out. */
  #peerLeft(): void {
    this.#peerGone = true;
    if (this.request !== null) abortRequest(this.request);
    this.#responses.peerLeft();
  }

  /**
   * Ends the request being served, if one is: its info's `completed` settles (once the answer's
   * bytes have left, if a handler waits on it), and its signal aborts if the answer was not sent.
   */
  end(sent: boolean): void {
    const info = this.#info;
    if (info === null || !info.pending) return;
    const request = this.request;
    this.request = null;
    if (!sent || this.#peerGone) {
      if (request !== null) abortRequest(request);
      info.settle(false);
    } else if (info.awaited) {
      // The request is over for the connection (closing it now fails no request); `completed`
      // waits for the answer's bytes to leave.
      info.pending = false;
      this.#writer.flush().then(() => info.settle(true), () => info.settle(false));
    } else {
      info.settle(true);
    }
  }

  /**
   * Ends the request whose answer is out (a failure — an error answer instead, a body cut short —
   * ended it already). Nobody waits to hear it, most of the time: then it is settled in place.
   */
  answered(): void {
    const info = this.#info;
    if (info === null || !info.pending) return;
    if (!this.#peerGone && !info.awaited) {
      info.pending = false;
      this.request = null;
    } else {
      this.end(true);
    }
  }
}
