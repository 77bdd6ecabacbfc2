/**
 * The file server's answers: its own small ones (errors, redirects), whose bodies are fixed text —
 * never a path, an exception message or a stack trace, whatever went wrong — and the `Response`
 * an answer becomes when the file server runs as an ordinary handler.
 */
import { labelBody } from "../handler/body_source.ts";
import type { Answer } from "../handler/direct.ts";
import { FieldList } from "../http1/field_list.ts";
import { fileStream } from "./body.ts";

const STATUS_TEXT: Readonly<Record<number, string>> = {
  301: "Moved Permanently",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  412: "Precondition Failed",
  416: "Range Not Satisfiable",
};

/** A plain-text answer such as "404 Not Found", with any extra headers. */
export function plainAnswer(status: number, headers: Record<string, string> = {}): Answer {
  return bytesAnswer(`${status} ${STATUS_TEXT[status] ?? ""}\n`, status, {
    "content-type": "text/plain; charset=utf-8",
    ...headers,
  });
}

const encoder = new TextEncoder();

/**
 * An answer whose body is built in memory, with its Content-Length set: the server would find
 * the length anyway, but a wrapper (the access log) only sees headers.
 */
export function bytesAnswer(body: string, status: number, headers: Record<string, string>): Answer {
  const bytes = encoder.encode(body);
  const fields = new FieldList(headers);
  fields.set("content-length", String(bytes.length));
  return { status, headers: fields, body: { kind: "bytes", bytes } };
}

/**
 * The `Response` for an answer. Its body is an ordinary one (a copy of the bytes, or a stream of
 * the file), labelled with what it holds so that sockserve's engine can still send it from its
 * source (body_source.ts).
 */
export function toResponse({ status, headers, body }: Answer): Response {
  const init = { status, headers: [...headers] };
  switch (body?.kind) {
    case undefined:
      return new Response(null, init);
    case "stream":
      return new Response(body.stream, init);
    case "bytes":
      // A copy: the bytes may be the file cache's, and a reader of the Response may write into
      // the chunks it reads.
      return labelBody(new Response(body.bytes.slice(), init), body);
    case "file":
      return labelBody(new Response(fileStream(body.path, [body]), init), body);
  }
}
