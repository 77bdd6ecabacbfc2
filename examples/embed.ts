/**
 * embed.ts — sockserve as a library: a program that imports `serve()` and `fileServer()` from
 * mod.ts, answers a few routes itself and hands every other request to the static file server.
 *
 *   deno task example:embed                      # http://127.0.0.1:9004/, files from www/
 *   curl http://127.0.0.1:9004/hello
 *   curl --data 'ping' http://127.0.0.1:9004/echo
 *
 * The system calls are all inside the library now — this is what the lecture's daemon looks like
 * once the socket work is done once and for all:
 *
 *   socket + bind + listen  ─  serve({ hostname, port }) → src/listeners.ts (Deno.listen)
 *   accept                  ─  the accept loop in src/server.ts, one task per connection
 *   read until full, write  ─  src/conn/connection.ts with src/io/reader.ts and writer.ts; the
 *                              handler below only sees a `Request` and returns a `Response`
 *   shutdown + close        ─  server.shutdown() (here: the abort signal, on SIGINT/SIGTERM):
 *                              stop accepting, finish requests in flight, close
 *
 * `serve()` has the shape of `Deno.serve`: replace the import with `Deno.serve` and the
 * handler runs unchanged.
 *
 * Usage: embed.ts [--host 127.0.0.1] [--port 9004] [--root www]
 */
import { parseArgs } from "node:util";
import { fileServer, serve, type ServeHandler } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9004" },
    root: { type: "string", default: "www" },
  },
});

const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

/** The program's own routes: "METHOD /path" → handler. */
const routes: Record<string, ServeHandler> = {
  "GET /hello": () => text("Hello there!\n"),
  "POST /echo": async (request) => text(await request.text()),
  "GET /whoami": (_request, info) => {
    const peer = info.remoteAddr as Deno.NetAddr;
    return Response.json({ transport: info.transport, address: peer.hostname, port: peer.port });
  },
};

let files: ReturnType<typeof fileServer>;
try {
  files = fileServer(values.root); // checks the root at once, not at the first request
} catch (error) {
  console.error(`embed: cannot serve files from ${values.root}: ${(error as Error).message}`);
  Deno.exit(1);
}

const handler: ServeHandler = (request, info) => {
  const { pathname } = new URL(request.url);
  const route = routes[`${request.method} ${pathname}`];
  if (route) return route(request, info);
  const allowed = Object.keys(routes).filter((key) => key.endsWith(` ${pathname}`));
  if (allowed.length > 0) {
    const response = text("Method Not Allowed\n", 405);
    response.headers.set("allow", allowed.map((key) => key.split(" ")[0]).join(", "));
    return response;
  }
  return files(request); // everything else: a file below the root, or its 404
};

const stop = new AbortController();
const server = serve({
  hostname: values.host,
  port: Number(values.port),
  signal: stop.signal, // aborting it shuts the server down gracefully
  onListen: (addr) => {
    const { hostname, port } = addr as Deno.NetAddr;
    console.log(`embed: listening on ${hostname}:${port} (files from ${values.root})`);
  },
}, handler);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    console.log(`${signal}: shutting down`);
    stop.abort();
  });
}
await server.finished;
console.log("embed: stopped, bye");
Deno.exit(0);
