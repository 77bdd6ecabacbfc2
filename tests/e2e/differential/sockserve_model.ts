/**
 * sockserve's side of the differential test, as a pure function over the bytes of one
 * connection: the engine's own parser and framing (`findHeadEnd`, `incompleteHeadError`,
 * `parseHead`, `requestFraming`, `ChunkedDecoder`) driven in the order conn.ts drives them, with
 * the checks conn.ts adds (Expect, Host, the URL, methods fetch refuses). The test also runs every
 * case against a live server and checks that this model and the server agree, so the comparison
 * with llhttp is a comparison with what the server does.
 */
import { ChunkedDecoder, requestFraming } from "../../../src/http1/request_body.ts";
import { HttpError } from "../../../src/errors.ts";
import { DEFAULT_LIMITS } from "../../../src/options.ts";
import {
  fieldTokens,
  findHeadEnd,
  incompleteHeadError,
  parseHead,
} from "../../../src/http1/parse.ts";
import { fromLatin1 } from "../../unit/fuzz/arbitraries.ts";

export interface ParsedRequest {
  method: string;
  target: string;
  /** "1.0" or "1.1", as Node reports it. */
  version: string;
  /** Lower-case names and values, in order. */
  fields: string[];
  /** Latin-1 text of the decoded body. */
  body: string;
}

export interface Parsed {
  requests: ParsedRequest[];
  outcome: "ok" | "error" | "incomplete";
  /** The error status sockserve answers with. */
  status?: number;
}

/** Host = uri-host [ ":" port ]: the same pattern as conn.ts. */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;

export function sockserveParse(bytes: Uint8Array): Parsed {
  const limits = DEFAULT_LIMITS;
  const requests: ParsedRequest[] = [];
  let pos = 0;
  try {
    for (;;) {
      if (pos === bytes.length) return { requests, outcome: "ok" };
      const end = findHeadEnd(bytes, pos, pos, bytes.length);
      if (end === -1) {
        const error = incompleteHeadError(bytes, pos, bytes.length, limits);
        if (error) throw error;
        return { requests, outcome: "incomplete" };
      }
      // RFC 9112 §2.2: empty lines before the request-line are skipped.
      let start = pos;
      while (start + 1 < end && bytes[start] === 0x0d && bytes[start + 1] === 0x0a) start += 2;
      pos = end;
      if (start === end) continue;
      const head = parseHead(bytes, start, end, limits);
      const framing = requestFraming(head, limits.maxBodyBytes);
      const expect = fieldTokens(head, "expect");
      if (expect.length > 0 && !(expect.length === 1 && expect[0] === "100-continue")) {
        throw new HttpError(417, "unsupported expectation");
      }
      const hosts = head.fields.filter((_, i) => i % 2 === 0 && head.fields[i] === "host");
      const host = hosts.length ? head.fields[head.fields.indexOf("host") + 1] : null;
      if (head.form !== "absolute" && host !== null && !VALID_HOST.test(host)) {
        throw new HttpError(400, "invalid Host field");
      }
      // conn.ts builds a URL, then a Request: a failure is 400, a method fetch refuses is 501.
      let url: URL;
      try {
        const path = head.form === "asterisk" ? "/*" : head.target;
        url = new URL(head.form === "absolute" ? head.target : `http://${host || "h"}${path}`);
      } catch {
        throw new HttpError(400, "request-target and Host do not form a valid URL");
      }
      let method: string;
      try {
        method = new Request(url, { method: head.method }).method;
      } catch {
        throw new HttpError(501, `method ${head.method} is not supported`);
      }
      // Methods are case-sensitive (RFC 9110 §9.1), but fetch upper-cases six of them: a
      // Request cannot carry "get" as distinct from "GET", so it must be refused, not folded.
      if (method !== head.method) {
        throw new HttpError(501, `method ${head.method} is not supported`);
      }
      let body = "";
      if (framing.kind === "length") {
        if (bytes.length - pos < framing.length) return { requests, outcome: "incomplete" };
        body = fromLatin1(bytes.subarray(pos, pos + framing.length));
        pos += framing.length;
      } else if (framing.kind === "chunked") {
        const decoder = new ChunkedDecoder({
          maxBodyBytes: limits.maxBodyBytes,
          maxExtensionBytes: 4096,
          maxTrailerBytes: limits.maxHeaderBytes,
        });
        pos = decoder.decode(bytes, pos, bytes.length, (data) => body += fromLatin1(data));
        if (!decoder.done) return { requests, outcome: "incomplete" };
      }
      requests.push({
        method: head.method,
        target: head.target,
        version: `1.${head.minor}`,
        fields: head.fields,
        body,
      });
      const connection = fieldTokens(head, "connection");
      const keepAlive = head.minor === 1
        ? !connection.includes("close")
        : connection.includes("keep-alive");
      if (!keepAlive) return { requests, outcome: "ok" };
    }
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { requests, outcome: "error", status: error.status };
  }
}
