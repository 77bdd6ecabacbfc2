/**
 * Engine findings of the fuzz and differential runs (issue 7), each as the smallest reproduction
 * asserting the behaviour the engine should have. They fail until the engine is fixed; see the
 * report on issue 7 and docs/conformance.md.
 */
import assert from "node:assert/strict";
import { ChunkedDecoder } from "../../src/http1/request_body.ts";
import { HttpError } from "../../src/errors.ts";
import { BufferedReader } from "../../src/io/reader.ts";
import {
  findHeadEnd,
  HEAD_END_OVERLAP,
  incompleteHeadError,
  parseHead,
} from "../../src/http1/parse.ts";
import { exchange, parseResponses, startServer } from "../helpers.ts";
import { latin1, pieces } from "../unit/fuzz/arbitraries.ts";

Deno.test("finding: an over-long request line ending in a bare LF gets one status however it arrives", async () => {
  const limits = { maxUriBytes: 48, maxHeaderBytes: 1024, maxHeaderCount: 10 };
  const bytes = latin1(`GET /${"a".repeat(60)} HTTP/1.1\nHost: h\n\n`);
  const status = async (at: number[]) => {
    const reader = new BufferedReader(pieces(bytes, at), 1 << 16);
    try {
      const result = await reader.readMatch(
        (buf, start, from, to) => {
          const end = findHeadEnd(buf, start, from, to);
          if (end !== -1) return end;
          const error = incompleteHeadError(buf, start, to, limits);
          if (error) throw error;
          return -1;
        },
        Infinity,
        HEAD_END_OVERLAP,
      );
      assert.equal(result.status, "found");
      if (result.status === "found") parseHead(result.bytes, 0, result.bytes.length, limits);
      return 0;
    } catch (error) {
      assert.ok(error instanceof HttpError);
      return error.status;
    }
  };
  const whole = await status([]); // parseHead: bare LF → 400
  const bytewise = await status(Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)); // 414
  assert.equal(bytewise, whole, "the same bytes split differently give a different status");
});

Deno.test("finding: a trailer line that is not a field line is refused (RFC 9112 §7.1.2)", async () => {
  const limits = { maxBodyBytes: 1 << 20, maxExtensionBytes: 64, maxTrailerBytes: 1024 };
  for (const body of ["0\r\nGET /smuggled HTTP/1.1\r\n\r\n", "0\r\nX: y\r\n z\r\n\r\n"]) {
    const decoder = new ChunkedDecoder(limits);
    const bytes = latin1(body);
    assert.throws(
      () => decoder.decode(bytes, 0, bytes.length, () => {}),
      (e: unknown) => e instanceof HttpError && e.status === 400,
      JSON.stringify(body),
    );
  }
  // Over the wire: the request after a last chunk without its final CRLF is not swallowed.
  const seen: string[] = [];
  await using s = startServer(async (req) => {
    seen.push(new URL(req.url).pathname);
    await req.arrayBuffer();
    return new Response("ok");
  });
  const raw = await exchange(
    s.port,
    "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n" +
      "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  );
  assert.equal(parseResponses(raw).at(-1)?.status, 400, raw);
});

Deno.test("finding: a method fetch would upper-case is refused, not served as another method", async () => {
  const seen: string[] = [];
  await using s = startServer((req) => {
    seen.push(req.method);
    return new Response("ok");
  });
  for (const method of ["get", "Get", "post", "head", "delete", "options", "put"]) {
    const raw = await exchange(
      s.port,
      `${method} / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(parseResponses(raw)[0].status, 501, `${method}: ${raw.slice(0, 40)}`);
  }
  assert.deepEqual(seen, [], "the handler never saw a method that was not sent");
});
