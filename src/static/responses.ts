/**
 * The file server's own small responses (errors, redirects). Bodies are fixed text: never a path,
 * an exception message or a stack trace, whatever went wrong.
 */

const STATUS_TEXT: Readonly<Record<number, string>> = {
  301: "Moved Permanently",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  412: "Precondition Failed",
  416: "Range Not Satisfiable",
};

/** A plain-text response such as "404 Not Found", with any extra headers. */
export function plainResponse(status: number, headers: Record<string, string> = {}): Response {
  return bytesResponse(`${status} ${STATUS_TEXT[status] ?? ""}\n`, status, {
    "content-type": "text/plain; charset=utf-8",
    ...headers,
  });
}

const encoder = new TextEncoder();

/**
 * A response whose body is built in memory, with its Content-Length set: the server would find
 * the length anyway, but a wrapper (the access log) only sees headers.
 */
export function bytesResponse(
  body: string,
  status: number,
  headers: Record<string, string>,
): Response {
  const bytes = encoder.encode(body);
  return new Response(bytes, {
    status,
    headers: { ...headers, "content-length": String(bytes.length) },
  });
}
