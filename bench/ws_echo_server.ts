/**
 * The WebSocket echo server of the WebSocket scenarios: `deno run … ws_echo_server.ts ENGINE`,
 * ENGINE `sockserve` (serve + sockserve's upgradeWebSocket) or `deno` (Deno.serve +
 * Deno.upgradeWebSocket). The same handler for both: every message is sent back as it came, text
 * as text and binary as binary. Prints `READY <port>` once listening.
 */
import { serve } from "../mod.ts";
import { upgradeWebSocket } from "../src/ws/upgrade_websocket.ts";

type Upgrade = (request: Request) => { socket: WebSocket; response: Response };

const engine = Deno.args[0];

function echoHandler(upgrade: Upgrade) {
  return (request: Request): Response => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("WebSocket echo: connect with a WebSocket client\n", { status: 426 });
    }
    const { socket, response } = upgrade(request);
    // Both engines hand binary messages over as ArrayBuffers (Deno's server default); set here
    // so that a different default could never be the difference between two rows.
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  };
}

const onListen = (addr: Deno.Addr) => console.log(`READY ${(addr as Deno.NetAddr).port}`);

if (engine === "deno") {
  Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen },
    echoHandler((request) => Deno.upgradeWebSocket(request)),
  );
} else if (engine === "sockserve") {
  serve({ hostname: "127.0.0.1", port: 0, onListen }, echoHandler(upgradeWebSocket));
} else {
  console.error("usage: ws_echo_server.ts sockserve|deno");
  Deno.exit(2);
}

Deno.addSignalListener("SIGINT", () => Deno.exit(0));
