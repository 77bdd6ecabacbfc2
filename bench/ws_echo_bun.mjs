// The WebSocket echo server of the WebSocket scenarios under Bun (`bun ws_echo_bun.mjs`): the same
// behaviour as bench/ws_echo_server.ts (every message sent back as it came), written against
// Bun.serve's websocket handlers, Bun's own fast path. Compression off, as the clients offer none.
// Prints `READY <port>` once listening.

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request, server) {
    if (server.upgrade(request)) return undefined;
    return new Response("WebSocket echo: connect with a WebSocket client\n", { status: 426 });
  },
  websocket: {
    perMessageDeflate: false,
    message(ws, message) {
      ws.send(message);
    },
  },
});

console.log(`READY ${server.port}`);
