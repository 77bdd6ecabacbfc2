/**
 * The one handler every embedded peer runs (sockserve's `serve` and `Deno.serve`), so that the
 * only difference between two rows of a hello-world table is the server underneath.
 * bench/node_hello.mjs is its node:http translation and must answer byte-for-byte the same body.
 */

const HELLO = "Hello, World!";

export function handler(request: Request): Response | Promise<Response> {
  // The POST scenario echoes the body. It is read whole and sent back with a length (not streamed)
  // because that is what the node peer does too: the comparison is of servers, not of strategies.
  if (request.method === "POST") return echo(request);
  return new Response(HELLO, { headers: { "content-type": "text/plain;charset=UTF-8" } });
}

async function echo(request: Request): Promise<Response> {
  const body = await request.arrayBuffer();
  return new Response(body, { headers: { "content-type": "application/octet-stream" } });
}
