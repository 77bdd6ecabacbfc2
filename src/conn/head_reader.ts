/**
 * Finds request heads in a connection's byte stream: skips the empty lines before one, finds a
 * head already buffered without a promise (`findHead`), or reads the rest of one within
 * `headersTimeout` (`findHeadLater`), refusing a head that outgrows the limits.
 */
import { HttpError } from "../errors.ts";
import type { BufferedReader, Matcher } from "../io/reader.ts";
import type { BufferedWriter } from "../io/writer.ts";
import { findHeadEnd, HEAD_END_OVERLAP, incompleteHeadError } from "../http1/parse.ts";
import type { Limits } from "../options.ts";
import { arm, disarm, type Timeout } from "./deadlines.ts";
import type { Exchange } from "./exchange.ts";
import type { ConnState } from "./state.ts";

/** The head matcher of each `Limits`: made once per server, not per connection. */
const matchers = new WeakMap<Limits, Matcher>();

/** Finds the end of a head, and refuses one that grows past `limits` before it ends. */
function headMatcher(limits: Limits): Matcher {
  let matcher = matchers.get(limits);
  if (matcher === undefined) {
    matcher = (buf, start, from, to) => {
      const end = findHeadEnd(buf, start, from, to);
      if (end !== -1) return end;
      const error = incompleteHeadError(buf, start, to, limits);
      if (error) throw error;
      return -1;
    };
    matchers.set(limits, matcher);
  }
  return matcher;
}

export class HeadReader {
  #reader: BufferedReader;
  #writer: BufferedWriter;
  #limits: Limits;
  #state: ConnState;
  #timeout: Timeout;
  #exchange: Exchange;
  #matchHead: Matcher;

  constructor(
    reader: BufferedReader,
    writer: BufferedWriter,
    limits: Limits,
    state: ConnState,
    timeout: Timeout,
    exchange: Exchange,
  ) {
    this.#reader = reader;
    this.#writer = writer;
    this.#limits = limits;
    this.#state = state;
    this.#timeout = timeout;
    this.#exchange = exchange;
    this.#matchHead = headMatcher(limits);
  }

  /**
   * Skips the empty lines before a request line (RFC 9112 §2.2: some clients send a CRLF after a
   * request) and says whether a request's first bytes are buffered. A lone CR may be the start
   * of one more empty line: it waits for the byte after it.
   */
  requestBuffered(): boolean {
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
   * Where a complete head already buffered ends (in the reader's buffer), or -1 when
   * `findHeadLater` must wait for the rest of it or decide: what it would find first, without its
   * promise.
   */
  findHead(): number {
    // A CR that starts no empty line, and heads over the limits, are findHeadLater's to refuse.
    if (this.#reader.byteAt(0) === 0x0d) return -1;
    try {
      return this.#reader.findBuffered(this.#matchHead, Infinity);
    } catch {
      return -1;
    }
  }

  /**
   * Reads the rest of a head whose first bytes are buffered, within `headersTimeout` (a 408
   * then). Returns null when the connection should end quietly (after the error answer to a head
   * over the limits).
   */
  async findHeadLater(): Promise<Uint8Array | null> {
    // The answers queued so far leave first, under the write timeout, not the head's.
    if (this.#writer.pendingBytes !== 0) await this.#writer.flush();
    this.#state.phase = "head";
    arm(this.#timeout, this.#limits.headersTimeout, "head");
    let result;
    try {
      // What is buffered is looked at first, then what each read adds.
      result = await this.#reader.readMatch(this.#matchHead, Infinity, HEAD_END_OVERLAP);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      this.#exchange.fail(error, 1);
      await this.#writer.flush();
      return null;
    } finally {
      disarm(this.#timeout);
    }
    return result.status === "found" ? result.bytes : null;
  }
}
