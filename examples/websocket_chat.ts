/**
 * websocket_chat.ts — a broadcast chat on sockserve's WebSockets: `GET /` is a small HTML page,
 * `GET /chat` upgrades to a WebSocket, and every text message a client sends goes to every
 * connected client (the sender included), prefixed with the sender's name.
 *
 *   deno task example:websocket-chat             # http://127.0.0.1:9005/ in two browser tabs
 *
 * `upgradeWebSocket` from mod.ts has the shape of `Deno.upgradeWebSocket`: under `Deno.serve`,
 * replace both imports with `Deno.serve` and `Deno.upgradeWebSocket` and the program runs
 * unchanged.
 *
 * Usage: websocket_chat.ts [--host 127.0.0.1] [--port 9005]
 */
import { parseArgs } from "node:util";
import { serve, upgradeWebSocket } from "../mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9005" },
  },
});

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>sockserve chat</title>
<style>body{font:16px system-ui;max-width:40em;margin:2em auto}#log{height:20em;overflow:auto;
border:1px solid #ccc;padding:.5em;white-space:pre-wrap}</style>
<h1>sockserve chat</h1>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" autofocus> <button>Send</button></form>
<script>
const log = document.getElementById("log");
const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/chat");
ws.onmessage = (e) => { log.textContent += e.data + "\\n"; log.scrollTop = log.scrollHeight; };
ws.onclose = (e) => { log.textContent += "(disconnected: " + e.code + ")\\n"; };
document.getElementById("form").onsubmit = (e) => {
  e.preventDefault();
  const input = document.getElementById("text");
  if (input.value) ws.send(input.value);
  input.value = "";
};
</script>
`;

/** The open sockets; a message goes to each. */
const clients = new Set<WebSocket>();
let joined = 0;

function broadcast(text: string): void {
  for (const client of clients) {
    if (client.readyState === WebSocket.OPEN) client.send(text);
  }
}

function chat(request: Request): Response {
  const { socket, response } = upgradeWebSocket(request);
  const name = `guest${++joined}`;
  socket.onopen = () => {
    clients.add(socket);
    socket.send(`you are ${name}`);
    broadcast(`* ${name} joined`);
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") broadcast(`${name}: ${event.data}`);
  };
  socket.onclose = () => {
    if (clients.delete(socket)) broadcast(`* ${name} left`);
  };
  return response;
}

const stop = new AbortController();
const server = serve({
  hostname: values.host,
  port: Number(values.port),
  signal: stop.signal, // aborting it shuts down: open sockets are closed with 1001
  onListen: ({ hostname, port }) => {
    console.log(`websocket-chat: listening on ${hostname}:${port}`);
  },
}, (request) => {
  const { pathname } = new URL(request.url);
  if (pathname === "/chat") {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("this is a WebSocket endpoint\n", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    return chat(request);
  }
  if (pathname === "/") {
    return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  }
  return new Response("Not Found\n", { status: 404 });
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    console.log(`${signal}: shutting down`);
    stop.abort();
  });
}
await server.finished;
console.log("websocket-chat: stopped, bye");
Deno.exit(0);
