/**
 * permessage-deflate (RFC 7692): the negotiation, and a message's compression and decompression.
 *
 * Negotiation reads the client's offers in order and accepts the first valid one, answering only
 * what the offer asks of the server: `server_no_context_takeover` and `server_max_window_bits`
 * when requested. The server inflates with a 32 KiB window and keeps its context, which reads
 * every client whatever it does with its own, so it never asks for `client_max_window_bits` or
 * `client_no_context_takeover`. An offer of `server_max_window_bits=8` is declined: zlib turns a
 * raw window of 8 bits into 9, which such a client could not read.
 *
 * The codecs are node:zlib streams flushed with Z_SYNC_FLUSH, the one zlib that ships with Deno
 * and keeps a context between messages. node:zlib is imported when the first message needs it, so
 * a server that never compresses never loads Deno's Node layer for it.
 */
import type { DeflateRaw, InflateRaw } from "node:zlib";
import { concatBytes } from "../io/bytes.ts";

export interface DeflateParams {
  /** The server resets its compressor after each message. */
  serverNoContextTakeover: boolean;
  /** The server's compression window, 9–15 bits. */
  serverMaxWindowBits: number;
}

export interface DeflateAgreement {
  params: DeflateParams;
  /** The `Sec-WebSocket-Extensions` value of the response. */
  response: string;
}

/** Splits a header value on `separator` outside quoted strings; trims each part. */
function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === separator) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A parameter's value, unquoted (RFC 6455 §9.1 allows a quoted-string), or null when bad. */
function paramValue(raw: string): string | null {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) return null;
    raw = raw.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return TOKEN.test(raw) ? raw : null;
}

function windowBits(value: string): number | null {
  if (!/^[0-9]{1,2}$/.test(value)) return null;
  const bits = Number(value);
  return bits >= 8 && bits <= 15 ? bits : null;
}

/** One offer's parameters checked by RFC 7692 §7.1; null declines it. */
function acceptOffer(params: string[]): DeflateAgreement | null {
  const seen = new Set<string>();
  const response = ["permessage-deflate"];
  const agreed: DeflateParams = { serverNoContextTakeover: false, serverMaxWindowBits: 15 };
  for (const param of params) {
    const eq = param.indexOf("=");
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? null : paramValue(param.slice(eq + 1).trim());
    if (seen.has(name) || (eq >= 0 && value === null)) return null;
    seen.add(name);
    switch (name) {
      case "server_no_context_takeover":
        if (value !== null) return null;
        agreed.serverNoContextTakeover = true;
        response.push("server_no_context_takeover");
        break;
      case "client_no_context_takeover":
        if (value !== null) return null;
        break;
      case "server_max_window_bits": {
        const bits = value === null ? null : windowBits(value);
        if (bits === null || bits === 8) return null;
        agreed.serverMaxWindowBits = bits;
        response.push(`server_max_window_bits=${bits}`);
        break;
      }
      case "client_max_window_bits":
        if (value !== null && windowBits(value) === null) return null;
        break;
      default:
        return null;
    }
  }
  return { params: agreed, response: response.join("; ") };
}

/**
 * The agreement on the first acceptable permessage-deflate offer in `header` (the request's
 * `Sec-WebSocket-Extensions`, repeated fields joined with commas), or null.
 */
export function negotiateDeflate(header: string | null): DeflateAgreement | null {
  if (header === null) return null;
  for (const offer of splitOutsideQuotes(header, ",")) {
    const [name, ...params] = splitOutsideQuotes(offer, ";");
    if (name.toLowerCase() !== "permessage-deflate") continue;
    const agreement = acceptOffer(params.filter((p) => p !== ""));
    if (agreement !== null) return agreement;
  }
  return null;
}

type Zlib = typeof import("node:zlib");
let zlibModule: Promise<Zlib> | null = null;
function loadZlib(): Promise<Zlib> {
  return zlibModule ??= import("node:zlib");
}

/** The empty stored block Z_SYNC_FLUSH ends with; RFC 7692 §7.2.1 drops it from the wire. */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);

/** The chunks as one array: the chunk itself when there is one. */
function joined(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0] : concatBytes(chunks);
}

/**
 * Runs `input` through `stream` and a Z_SYNC_FLUSH and collects the output. Past `limit` output
 * bytes it settles at once with `overLimit` and stops listening; the caller then closes the stream,
 * which stops zlib mid-input (a small bomb is not inflated to the end).
 */
function flushThrough(
  zlib: Zlib,
  stream: DeflateRaw | InflateRaw,
  input: Uint8Array,
  limit: number,
): Promise<{ output: Uint8Array; overLimit: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let length = 0;
    const stop = () => {
      stream.off("data", onData);
      stream.off("error", onError);
    };
    const onData = (chunk: Uint8Array) => {
      length += chunk.length;
      if (length <= limit) return void chunks.push(chunk);
      stop();
      resolve({ output: new Uint8Array(0), overLimit: true });
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    stream.on("data", onData);
    stream.on("error", onError);
    if (input.length > 0) stream.write(input);
    // The flush's callback gets a data error before the stream's "error" event does.
    const flushed = (error?: Error | null) => {
      if (error) return onError(error);
      stop();
      resolve({ output: joined(chunks), overLimit: false });
    };
    stream.flush(zlib.constants.Z_SYNC_FLUSH, flushed as () => void);
  });
}

/** A stream whose late errors (after `close`, or after a call gave up) go nowhere. */
function quiet<T extends DeflateRaw | InflateRaw>(stream: T): T {
  stream.on("error", () => {});
  return stream;
}

/** Compresses messages for one connection (created on the first message over the threshold). */
export class MessageDeflater {
  readonly #params: DeflateParams;
  #stream: DeflateRaw | null = null;
  #closed = false;

  constructor(params: DeflateParams) {
    this.#params = params;
  }

  /** A message's compressed payload, the trailing 00 00 ff ff removed. */
  async compress(data: Uint8Array): Promise<Uint8Array> {
    const zlib = await loadZlib();
    if (this.#closed) throw new Error("the compressor is closed");
    this.#stream ??= quiet(
      zlib.createDeflateRaw({ windowBits: this.#params.serverMaxWindowBits }),
    );
    const { output } = await flushThrough(zlib, this.#stream, data, Infinity);
    if (this.#params.serverNoContextTakeover) this.#stream.reset();
    return output.subarray(0, output.length - TAIL.length);
  }

  close(): void {
    this.#closed = true;
    this.#stream?.close();
    this.#stream = null;
  }
}

/** Thrown by `MessageInflater.inflate` when the output would exceed its limit. */
export class InflateLimitError extends Error {}

/** Decompresses one connection's messages, fragment by fragment, keeping the context. */
export class MessageInflater {
  #stream: InflateRaw | null = null;
  #closed = false;

  /**
   * Inflates a fragment of a compressed message (`fin` on its last); rejects with
   * `InflateLimitError` past `limit` output bytes, with zlib's error on corrupt data.
   */
  async inflate(data: Uint8Array, fin: boolean, limit: number): Promise<Uint8Array> {
    const zlib = await loadZlib();
    if (this.#closed) throw new Error("the decompressor is closed");
    this.#stream ??= quiet(zlib.createInflateRaw({ windowBits: 15 }));
    let input = data;
    if (fin) {
      input = new Uint8Array(data.length + TAIL.length);
      input.set(data);
      input.set(TAIL, data.length);
    }
    const { output, overLimit } = await flushThrough(zlib, this.#stream, input, limit);
    if (overLimit) {
      this.close();
      throw new InflateLimitError(`message over ${limit} bytes once inflated`);
    }
    return output;
  }

  close(): void {
    this.#closed = true;
    this.#stream?.close();
    this.#stream = null;
  }
}
