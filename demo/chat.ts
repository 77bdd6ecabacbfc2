/**
 * The demo's WebSocket chat at `/api/ws` (www/app.js's chat panel): every text message a socket
 * sends goes to every open socket, the sender's included, as `name: text`; a socket is told its
 * own name (`you are guestN`) when it opens. Shutdown needs nothing from here: the server closes
 * each open socket with 1001.
 */
import { upgradeWebSocket } from "../src/ws/upgrade_websocket.ts";

/** Longest message relayed, in bytes; a longer one closes its socket with 1009. */
export const MAX_CHAT_MESSAGE_BYTES = 4 * 1024;

export class ChatRoom {
  #sockets = new Set<WebSocket>();
  #joined = 0;

  /** Sockets open now. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Upgrades `request` and seats its socket in the room; the response is the handler's. */
  join(request: Request): Response {
    const { socket, response } = upgradeWebSocket(request, {
      maxMessageBytes: MAX_CHAT_MESSAGE_BYTES,
    });
    const name = `guest${++this.#joined}`;
    socket.onopen = () => {
      this.#sockets.add(socket);
      socket.send(`you are ${name}`);
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") this.broadcast(`${name}: ${event.data}`);
    };
    socket.onclose = () => this.#sockets.delete(socket);
    return response;
  }

  /** Sends `text` to every open socket. */
  broadcast(text: string): void {
    for (const socket of this.#sockets) {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    }
  }
}
