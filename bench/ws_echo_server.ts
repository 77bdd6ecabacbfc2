/**
 * The WebSocket echo server of the WebSocket scenarios: `deno run … ws_echo_server.ts ENGINE`,
 * ENGINE `sockserve` (serve + sockserve's upgradeWebSocket) or `deno` (Deno.serve +
 * Deno.upgradeWebSocket). The same handler for both: every message is sent back as it came, text
 * as text and binary as binary. Prints `READY <port>` once listening.
 *
 * sockserve's upgradeWebSocket is imported only when asked for, from src/ws/upgrade_websocket.ts:
 * until that module exists the sockserve peer is reported "not available" (bench/servers.ts
 * checks first) and this file says why if started by hand.
 */

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
  const path = "../src/ws/upgrade_websocket.ts";
  let upgradeWebSocket: Upgrade | undefined;
  try {
    // A variable specifier keeps `deno check` from requiring the module before it exists.
    ({ upgradeWebSocket } = await import(path));
  } catch (error) {
    console.error(`sockserve's ${path.slice(3)} cannot be loaded: ${(error as Error).message}`);
    Deno.exit(1);
  }
  if (typeof upgradeWebSocket !== "function") {
    console.error(`${path.slice(3)} does not export upgradeWebSocket`);
    Deno.exit(1);
  }
  const { serve } = await import("../mod.ts");
  serve({ hostname: "127.0.0.1", port: 0, onListen }, echoHandler(upgradeWebSocket));
} else {
  console.error("usage: ws_echo_server.ts sockserve|deno");
  Deno.exit(2);
}

Deno.addSignalListener("SIGINT", () => Deno.exit(0));
