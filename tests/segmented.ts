/**
 * Pipelined batches delivered in pieces: the client sends a batch cut at given offsets and, after
 * each piece, reads the answers to every request that piece completed before it sends the next.
 * A server that holds a ready answer back while it waits for more bytes never gets them: the
 * client waits for that answer first, so the test fails (by the server's own timeouts, which the
 * tests set short) instead of passing by luck.
 *
 * The requests are routes of tests/fixtures/parity_handler.ts, so a batch runs unchanged under
 * `Deno.serve` and under sockserve.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Client, type ParsedResponse } from "./helpers.ts";

/** One request of a batch: its bytes, and the body of its 200 answer. */
export interface Piece {
  bytes: string;
  answer: string;
}

/** A GET of `/query?i=…`: the parity handler answers with the query as JSON. */
export function getPiece(i: number): Piece {
  return {
    bytes: `GET /query?i=${i} HTTP/1.1\r\nHost: pipeline.test\r\n\r\n`,
    answer: JSON.stringify({ search: `?i=${i}`, params: [["i", String(i)]], all: [] }),
  };
}

/** A POST to `/echo` with a Content-Length body. */
export function postPiece(body: string): Piece {
  return {
    bytes: `POST /echo HTTP/1.1\r\nHost: pipeline.test\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${body.length}\r\n\r\n${body}`,
    answer: body,
  };
}

/** A POST to `/echo` with a chunked body in the given chunks. */
export function chunkedPiece(chunks: string[]): Piece {
  let coded = "";
  for (const chunk of chunks) {
    if (chunk.length > 0) coded += `${chunk.length.toString(16)}\r\n${chunk}\r\n`;
  }
  return {
    bytes: "POST /echo HTTP/1.1\r\nHost: pipeline.test\r\nContent-Type: text/plain\r\n" +
      `Transfer-Encoding: chunked\r\n\r\n${coded}0\r\n\r\n`,
    answer: chunks.join(""),
  };
}

/** An empty line (RFC 9112 §2.2): not a request, and no answer. */
export const CRLF: Piece = { bytes: "\r\n", answer: "" };

/** The batch's bytes, and the offset where each request (not each empty line) ends. */
export function layout(pieces: Piece[]): { bytes: string; ends: number[]; answers: string[] } {
  let bytes = "";
  const ends: number[] = [];
  const answers: string[] = [];
  for (const piece of pieces) {
    bytes += piece.bytes;
    if (piece !== CRLF) {
      ends.push(bytes.length);
      answers.push(piece.answer);
    }
  }
  return { bytes, ends, answers };
}

/**
 * Sends `pieces` as one byte string cut at `cuts` (increasing offsets inside it); after each
 * part, reads the answers to the requests it completed. Checks every answer (200, the expected
 * body, in order) and that nothing else comes once the client has closed its side.
 */
export async function deliver(port: number, pieces: Piece[], cuts: number[]): Promise<void> {
  const { bytes, ends, answers } = layout(pieces);
  const client = await Client.connect(port);
  try {
    (client.conn as Deno.TcpConn).setNoDelay(true);
    const got: ParsedResponse[] = [];
    let from = 0;
    for (const to of [...cuts, bytes.length]) {
      await client.send(bytes.slice(from, to));
      from = to;
      const due = ends.filter((end) => end <= to).length;
      if (due > got.length) got.push(...await client.responses(due - got.length));
    }
    assert.deepEqual(got.map((r) => [r.status, r.body]), answers.map((a) => [200, a]));
    await client.conn.closeWrite();
    assert.equal(await client.rest(), "", "bytes after the last answer");
  } finally {
    client.close();
  }
}

/** Every offset inside `text` (each two-way split). */
export function everySplit(text: string): number[][] {
  return Array.from({ length: text.length - 1 }, (_, i) => [i + 1]);
}

/** Offsets that cut `text` into single bytes. */
export function everyByte(text: string): number[] {
  return Array.from({ length: text.length - 1 }, (_, i) => i + 1);
}

/** The batch the split tests send: GET, POST with a length, CRLF, chunked POST, CRLF, GET. */
export const MIXED_BATCH: Piece[] = [
  getPiece(1),
  postPiece("hello"),
  CRLF,
  chunkedPiece(["abc", "defg"]),
  CRLF,
  getPiece(2),
];

const bodyText = fc.string({ unit: fc.constantFrom("a", "b", "z", "0", " ", "-"), maxLength: 24 });

/** A random request of the kinds above, optionally followed by an empty line. */
const piece: fc.Arbitrary<Piece[]> = fc.tuple(
  fc.oneof(
    fc.nat({ max: 999 }).map(getPiece),
    bodyText.map(postPiece),
    fc.array(bodyText, { minLength: 1, maxLength: 4 }).map(chunkedPiece),
  ),
  fc.boolean(),
).map(([request, emptyLine]) => emptyLine ? [request, CRLF] : [request]);

/** A random batch of 1–6 requests and random offsets to cut it at. */
export const segmentedBatch: fc.Arbitrary<{ pieces: Piece[]; cuts: number[] }> = fc
  .array(piece, { minLength: 1, maxLength: 6 })
  .map((groups) => groups.flat())
  .chain((pieces) => {
    const length = layout(pieces).bytes.length;
    return fc.uniqueArray(fc.integer({ min: 1, max: length - 1 }), { maxLength: 12 })
      .map((cuts) => ({ pieces, cuts: cuts.sort((a, b) => a - b) }));
  });
