/**
 * One HTTP message per datagram: the request parsed from a datagram with the stream transports'
 * parser and framing (which must hold exactly one whole message), and the reply encoded as one
 * datagram with Content-Length framing, or the 500 that says why it cannot be one.
 */
import { HttpError } from "../errors.ts";
import { findHeadEnd, incompleteHeadError, parseHead, type RequestHead } from "../http1/parse.ts";
import { ChunkedDecoder, requestFraming } from "../http1/request_body.ts";
import {
  type EncodedFields,
  encodeFields,
  encodeHead,
  type ResponseFraming,
  statusHasNoBody,
} from "../http1/encode.ts";
import { concatBytes } from "../io/bytes.ts";
import { buildRequest } from "../handler/request.ts";
import type { DatagramLimits } from "./options.ts";

/** Same bound on chunk extensions as the stream transports. */
const MAX_EXTENSION_BYTES = 4096;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** The request in one datagram, through the same parser and framing as a TCP connection. */
export function parseRequestDatagram(
  datagram: Uint8Array<ArrayBuffer>,
  limits: DatagramLimits,
  maxDatagramBytes: number,
  defaultHost: string,
): { head: RequestHead; request: Request } {
  if (datagram.length > maxDatagramBytes) {
    throw new HttpError(413, `request datagram is larger than ${maxDatagramBytes} bytes`);
  }
  const end = findHeadEnd(datagram, 0, 0, datagram.length);
  if (end === -1) {
    throw incompleteHeadError(datagram, 0, datagram.length, limits) ??
      new HttpError(400, "the datagram does not hold a complete request head (no empty line)");
  }
  const head = parseHead(datagram, 0, end, limits);
  const framing = requestFraming(head, limits.maxBodyBytes);
  let body: Uint8Array<ArrayBuffer> | null = null;
  let used = end;
  if (framing.kind === "length") {
    used = end + framing.length;
    if (used > datagram.length) {
      throw new HttpError(
        400,
        `Content-Length is ${framing.length} but the datagram holds ${
          datagram.length - end
        } body bytes`,
      );
    }
    body = datagram.subarray(end, used);
  } else if (framing.kind === "chunked") {
    const decoder = new ChunkedDecoder({
      maxBodyBytes: limits.maxBodyBytes,
      maxExtensionBytes: MAX_EXTENSION_BYTES,
      maxTrailerBytes: limits.maxHeaderBytes,
    });
    const pieces: Uint8Array[] = [];
    used = decoder.decode(datagram, end, datagram.length, (data) => pieces.push(data));
    if (!decoder.done) throw new HttpError(400, "chunked body does not end inside the datagram");
    body = concatBytes(pieces);
  }
  if (used < datagram.length) {
    throw new HttpError(
      400,
      `${datagram.length - used} bytes after the end of the request; a datagram carries one`,
    );
  }
  return { head, request: buildRequest(head, body, "http", defaultHost) };
}

/** The whole response as one datagram, or the 500 that says why it cannot be. */
export async function encodeReplyDatagram(
  head: RequestHead,
  response: Response,
  maxDatagramBytes: number,
): Promise<Uint8Array> {
  const status = response.status;
  let fields: EncodedFields;
  try {
    fields = encodeFields(response.headers);
  } catch (error) {
    // A header that would split the response: the caller answers 500, the body is not wanted.
    response.body?.cancel().catch(() => {});
    throw error;
  }
  const declared = fields.declaredLength;
  let body = EMPTY;
  let framing: ResponseFraming;
  if (statusHasNoBody(status)) {
    response.body?.cancel().catch(() => {});
    framing = status === 304 && declared !== null
      ? { kind: "length", length: declared }
      : { kind: "none" };
  } else if (head.method === "HEAD" && (response.body === null || declared !== null)) {
    response.body?.cancel().catch(() => {});
    framing = { kind: "length", length: declared ?? 0 };
  } else {
    body = await readUpTo(response.body, maxDatagramBytes);
    framing = { kind: "length", length: body.length };
    if (head.method === "HEAD") body = EMPTY;
  }
  const headBytes = encoder.encode(
    encodeHead(1, status, response.statusText, fields, framing, false),
  );
  const size = headBytes.length + body.length;
  if (size > maxDatagramBytes) throw tooLarge(size, maxDatagramBytes);
  const out = new Uint8Array(size);
  out.set(headBytes);
  out.set(body, headBytes.length);
  return out;
}

function tooLarge(size: number | null, limit: number): HttpError {
  const what = size === null ? `over ${limit} bytes` : `${size} bytes`;
  return new HttpError(
    500,
    `the response (${what}) does not fit in one datagram of at most ${limit} bytes; ` +
      "ask over TCP",
  );
}

/**
 * The body's bytes, read to its end but never more than `limit`: an endless stream (Server-Sent
 * Events) is cancelled as soon as it is known not to fit, and reported as too large.
 */
async function readUpTo(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (stream === null) return EMPTY;
  const reader = stream.getReader();
  const pieces: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return concatBytes(pieces);
      if (!(value instanceof Uint8Array)) throw new TypeError("response body chunks must be bytes");
      size += value.length;
      if (size > limit) throw tooLarge(null, limit);
      pieces.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
