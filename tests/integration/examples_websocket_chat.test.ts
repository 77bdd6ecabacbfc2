/** examples/websocket_chat.ts run as its deno task: the page, and a broadcast between two clients. */
import assert from "node:assert/strict";
import { deadline, Example } from "../examples_helpers.ts";

const SERVER = "example:websocket-chat";

/** A client whose messages are collected; `next()` is the next one not yet taken. */
class ChatClient {
  readonly ws: WebSocket;
  readonly #queue: string[] = [];
  #waiting: ((text: string) => void) | null = null;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.onmessage = (e) => {
      if (this.#waiting) {
        const resolve = this.#waiting;
        this.#waiting = null;
        resolve(e.data);
      } else this.#queue.push(e.data);
    };
  }

  next(): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return deadline(new Promise((resolve) => this.#waiting = resolve), "a chat message");
  }

  closed(): Promise<CloseEvent> {
    return new Promise((resolve) => this.ws.addEventListener("close", resolve, { once: true }));
  }
}

Deno.test("websocket-chat serves its page and sends every message to every client", async () => {
  await using server = new Example(SERVER, ["--port", "0"]);
  const port = await server.listeningPort();
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await page.text(), /new WebSocket\(.*"\/chat"\)/);
  const plain = await fetch(`http://127.0.0.1:${port}/chat`);
  assert.equal(plain.status, 426);
  await plain.body?.cancel();

  const ann = new ChatClient(`ws://127.0.0.1:${port}/chat`);
  assert.equal(await ann.next(), "you are guest1");
  assert.equal(await ann.next(), "* guest1 joined");
  const bob = new ChatClient(`ws://127.0.0.1:${port}/chat`);
  assert.equal(await bob.next(), "you are guest2");
  assert.equal(await bob.next(), "* guest2 joined");
  assert.equal(await ann.next(), "* guest2 joined");

  ann.ws.send("hello, bob");
  assert.equal(await ann.next(), "guest1: hello, bob");
  assert.equal(await bob.next(), "guest1: hello, bob");
  bob.ws.send("hi ann ✓");
  assert.equal(await bob.next(), "guest2: hi ann ✓");
  assert.equal(await ann.next(), "guest2: hi ann ✓");

  const bobClosed = bob.closed();
  bob.ws.close();
  await bobClosed;
  assert.equal(await ann.next(), "* guest2 left");

  // SIGTERM: the server shuts down and closes the open socket with 1001.
  const annClosed = ann.closed();
  server.child.kill("SIGTERM");
  assert.equal((await deadline(annClosed, "ann's close")).code, 1001);
  const { code, stdout } = await server.exit();
  assert.equal(code, 0);
  assert.match(stdout, /websocket-chat: stopped, bye/);
});
