/**
 * WebSocket test helpers: a small server that plays the connection loop's part of an upgrade
 * (reads a request head, calls the handler, writes a claimed 101 and hands a `ByteChannel` over
 * `Deno.Conn` to the claim), and a raw client that speaks frames byte by byte.
 */
import { type ByteChannel, takeUpgrade } from "../src/conn/upgrade.ts";
import { encodeFrame, type Frame, parseFrame } from "../src/ws/frame.ts";
import { upgradeWebSocket, type UpgradeWebSocketOptions } from "../src/ws/upgrade_websocket.ts";
import { type HttpServer, serve, type ServeOptions } from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A `ByteChannel` over a `Deno.Conn`, starting with the bytes read past the request head. */
export class ConnChannel implements ByteChannel {
  readonly #conn: Deno.Conn;
  #leftover: Uint8Array | null;
  readonly #buffer = new Uint8Array(64 * 1024);
  #closed = false;
  #resolveClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => this.#resolveClosed = resolve);
  onShutdown: (() => void) | null = null;

  constructor(conn: Deno.Conn, leftover: Uint8Array) {
    this.#conn = conn;
    this.#leftover = leftover.length > 0 ? leftover : null;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  async read(): Promise<Uint8Array | null> {
    if (this.#leftover !== null) {
      const bytes = this.#leftover;
      this.#leftover = null;
      return bytes;
    }
    if (this.#closed) return null;
    try {
      const n = await this.#conn.read(this.#buffer);
      return n === null ? null : this.#buffer.subarray(0, n);
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      if (this.#closed) throw new Deno.errors.BadResource("the channel is closed");
      at += await this.#conn.write(bytes.subarray(at));
    }
  }

  /**
   * Closes the connection. The write side is shut first: on Deno 2.8, `close()` with a read
   * pending neither ends the read nor closes the socket, and the peer's end of file (after our
   * FIN) is what ends both there.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.closeWrite();
    } catch {
      // the peer is gone already
    }
    this.#conn.close();
    this.#resolveClosed();
  }
}

export interface WsTestServer {
  port: number;
  /** Every channel handed to a claim so far. */
  channels: ConnChannel[];
  /** Calls each open channel's `onShutdown`, as the server's shutdown does. */
  shutdown(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

function indexOfHeadEnd(bytes: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (bytes[i - 3] === 13 && bytes[i - 2] === 10 && bytes[i - 1] === 13 && bytes[i] === 10) {
      return i + 1;
    }
  }
  return -1;
}

/** Reads one request head from `conn`; returns the Request and the bytes after the head. */
async function readRequest(conn: Deno.Conn, port: number): Promise<[Request, Uint8Array] | null> {
  const buffer = new Uint8Array(16 * 1024);
  let length = 0;
  for (;;) {
    const n = await conn.read(buffer.subarray(length));
    if (n === null) return null;
    length += n;
    const end = indexOfHeadEnd(buffer, length);
    if (end < 0) continue;
    const [requestLine, ...lines] = decoder.decode(buffer.subarray(0, end - 4)).split("\r\n");
    const [method, target] = requestLine.split(" ");
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon), line.slice(colon + 1).trim());
    }
    const request = new Request(`http://127.0.0.1:${port}${target}`, { method, headers });
    return [request, buffer.slice(end, length)];
  }
}

async function writeResponse(conn: Deno.Conn, response: Response): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${response.statusText || "X"}\r\n`;
  for (const [name, value] of response.headers) head += `${name}: ${value}\r\n`;
  if (response.status !== 101) head += `content-length: ${body.length}\r\nconnection: close\r\n`;
  const bytes = new Uint8Array([...encoder.encode(head + "\r\n"), ...body]);
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/**
 * Starts a server on 127.0.0.1 and a free port that answers each connection's one request with
 * `handler` and hands claimed 101s over. Dispose with `await using`: the listener closes and every
 * channel still open is closed.
 */
export function startWsServer(handler: (request: Request) => Response): WsTestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const channels: ConnChannel[] = [];
  const tasks: Promise<void>[] = [];
  const serveOne = async (conn: Deno.Conn) => {
    const read = await readRequest(conn, port).catch(() => null);
    if (read === null) return conn.close();
    const [request, leftover] = read;
    const response = handler(request);
    const claim = takeUpgrade(response);
    await writeResponse(conn, response);
    if (claim === undefined) return conn.close();
    const channel = new ConnChannel(conn, leftover);
    channels.push(channel);
    claim(channel);
  };
  const accepting = (async () => {
    for await (const conn of listener) tasks.push(serveOne(conn));
  })();
  return {
    port,
    channels,
    shutdown() {
      for (const channel of channels) if (!channel.isClosed) channel.onShutdown?.();
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await Promise.all(tasks);
      for (const channel of channels) channel.close();
      await Promise.all(channels.map((c) => c.closed));
    },
  };
}

/** A server whose handler upgrades every request with `upgrade` and echoes every message. */
export function startEchoServer(
  upgrade: (request: Request) => { socket: WebSocket; response: Response },
): WsTestServer & { sockets: WebSocket[] } {
  const sockets: WebSocket[] = [];
  const server = startWsServer((request) => {
    const { socket, response } = upgrade(request);
    socket.onmessage = (event) => socket.send(event.data);
    sockets.push(socket);
    return response;
  });
  return Object.assign(server, { sockets });
}

export const SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** What `RawClient.readFrame` returns: a frame, or null once the server closed the TCP side. */
export type ServerFrame = Frame | null;

/** A client that writes raw bytes and reads the server's frames with frame.ts's parser. */
export class RawClient {
  readonly conn: Deno.TcpConn;
  /** The 101's head, as text. */
  readonly head: string;
  #buffer: Uint8Array;
  #length: number;
  readonly #mask = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

  private constructor(conn: Deno.TcpConn, head: string, rest: Uint8Array) {
    this.conn = conn;
    this.head = head;
    this.#buffer = new Uint8Array(Math.max(64 * 1024, rest.length));
    this.#buffer.set(rest);
    this.#length = rest.length;
  }

  /** Connects, sends an upgrade request (with `extraHeaders`), and reads the response head. */
  static async connect(port: number, extraHeaders = ""): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const request = `GET /chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${SAMPLE_KEY}\r\n` +
      `Sec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`;
    await writeAll(conn, encoder.encode(request));
    const buffer = new Uint8Array(16 * 1024);
    let length = 0;
    for (;;) {
      const n = await conn.read(buffer.subarray(length));
      if (n === null) throw new Error("the server closed before answering the handshake");
      length += n;
      const end = indexOfHeadEnd(buffer, length);
      if (end >= 0) {
        return new RawClient(
          conn,
          decoder.decode(buffer.subarray(0, end)),
          buffer.slice(end, length),
        );
      }
    }
  }

  /** Writes bytes as they are. */
  send(bytes: Uint8Array): Promise<void> {
    return writeAll(this.conn, bytes);
  }

  /** A masked frame, as a client sends it. */
  frame(opcode: number, payload: Uint8Array | string = "", fin = true, rsv1 = false): Uint8Array {
    const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
    return encodeFrame(opcode, bytes, { fin, rsv1, mask: this.#mask });
  }

  sendFrame(opcode: number, payload: Uint8Array | string = "", fin = true): Promise<void> {
    return this.send(this.frame(opcode, payload, fin));
  }

  /** The server's next frame (RSV1 allowed), or null when the server closed the connection. */
  async readFrame(): Promise<ServerFrame> {
    for (;;) {
      const parsed = parseFrame(this.#buffer, 0, this.#length, {
        masked: false,
        rsv1: true,
        maxPayload: Number.MAX_SAFE_INTEGER,
      });
      if (parsed.kind === "error") throw new Error(`server sent a bad frame: ${parsed.reason}`);
      if (parsed.kind === "frame") {
        const frame = { ...parsed.frame, payload: parsed.frame.payload.slice() };
        this.#buffer.copyWithin(0, parsed.consumed, this.#length);
        this.#length -= parsed.consumed;
        return frame;
      }
      if (this.#buffer.length < parsed.needed) {
        const grown = new Uint8Array(parsed.needed);
        grown.set(this.#buffer.subarray(0, this.#length));
        this.#buffer = grown;
      }
      let n: number | null;
      try {
        n = await this.conn.read(this.#buffer.subarray(this.#length));
      } catch (error) {
        if (error instanceof Deno.errors.ConnectionReset) return null;
        throw error;
      }
      if (n === null) {
        if (this.#length > 0) throw new Error("the server closed in the middle of a frame");
        return null;
      }
      this.#length += n;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** A close frame's code (1005 when empty) and reason. */
export function closeOf(frame: Frame): { code: number; reason: string } {
  if (frame.payload.length < 2) return { code: 1005, reason: "" };
  return {
    code: (frame.payload[0] << 8) | frame.payload[1],
    reason: decoder.decode(frame.payload.subarray(2)),
  };
}

/**
 * An echo server on the real engine (`serve()` from mod.ts) on 127.0.0.1 and a free port, or on
 * the listener `listen` describes; every request is upgraded with `upgradeWebSocket`.
 */
export function startEngineEchoServer(
  options?: UpgradeWebSocketOptions,
  listen: Partial<ServeOptions> = {},
): {
  server: HttpServer;
  port: number;
  sockets: WebSocket[];
  [Symbol.asyncDispose](): Promise<void>;
} {
  const sockets: WebSocket[] = [];
  const server = serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, ...listen } as ServeOptions,
    (request) => {
      const { socket, response } = upgradeWebSocket(request, options);
      socket.onmessage = (event) => socket.send(event.data);
      sockets.push(socket);
      return response;
    },
  );
  return {
    server,
    port: (server.addr as Deno.NetAddr).port,
    sockets,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
