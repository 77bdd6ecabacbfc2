/**
 * The server side's `WebSocket`: the object `upgradeWebSocket` returns, shaped like the one
 * `Deno.upgradeWebSocket` returns so server code written against Deno's runs unchanged.
 *
 * An `EventTarget` with `open`, `message`, `error` and `close` events (real `MessageEvent`,
 * `ErrorEvent` and `CloseEvent`), the `on…` handler properties, `readyState` and its constants,
 * `send`, `close`, `bufferedAmount`, `binaryType`, `protocol`, `extensions` and `url`. Where
 * Deno's server socket differs from a browser's, it does what Deno's does: `binaryType` starts as
 * "arraybuffer", `url` is "", `send` outside OPEN throws `InvalidStateError`. `close` takes the
 * codes a server may put on the wire (1000–1003, 1007–1014, 3000–4999), a superset of a
 * browser's (1000, 3000–4999), where Deno's takes any number, even 1005, which no close frame may
 * carry.
 *
 * The socket is CONNECTING until the connection loop has written the 101 and hands over the
 * connection (`attachChannel`); the protocol itself runs in session.ts.
 */
import type { ByteChannel } from "../conn/upgrade.ts";
import { runAfter } from "../deno/timer.ts";
import { CLOSE_ABNORMAL } from "./frame.ts";
import { isValidCloseCode, type Message } from "./message.ts";
import { CLOSED, CLOSING, OPEN, Session, type SessionOptions } from "./session.ts";

const CONNECTING = 0;
const encoder = new TextEncoder();

type Handler<E extends Event> = ((this: WebSocket, ev: E) => unknown) | null;
interface HandlerSlot {
  handler: Handler<Event>;
  listener: (event: Event) => void;
}

let attach: (socket: ServerWebSocket, channel: ByteChannel) => void;
let reject: (socket: ServerWebSocket, message: string) => void;

export class ServerWebSocket extends EventTarget implements WebSocket {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  static {
    attach = (socket, channel) => socket.#attach(channel);
    reject = (socket, message) => socket.#reject(message);
  }

  /** The state until the session runs (CONNECTING, or CLOSING/CLOSED before it ever opened). */
  #state = CONNECTING;
  /** Set once open: from then on the session's state is the socket's. */
  #session: Session | null = null;
  readonly #options: SessionOptions;
  readonly #protocol: string;
  readonly #extensions: string;
  #binaryType: BinaryType = "arraybuffer";
  /** close() called while CONNECTING: the code and reason to close with once attached. */
  #earlyClose: { code: number | undefined; reason: string } | null = null;
  #attached = false;
  readonly #handlers = new Map<string, HandlerSlot>();

  /** Made by `upgradeWebSocket`; not for applications to construct. */
  constructor(options: SessionOptions, protocol: string, extensions: string) {
    super();
    this.#options = options;
    this.#protocol = protocol;
    this.#extensions = extensions;
  }

  get CONNECTING(): number {
    return CONNECTING;
  }
  get OPEN(): number {
    return OPEN;
  }
  get CLOSING(): number {
    return CLOSING;
  }
  get CLOSED(): number {
    return CLOSED;
  }

  get readyState(): number {
    return this.#session?.state ?? this.#state;
  }
  /** The empty string, as on Deno's server sockets. */
  get url(): string {
    return "";
  }
  get protocol(): string {
    return this.#protocol;
  }
  get extensions(): string {
    return this.#extensions;
  }
  get bufferedAmount(): number {
    return this.#session?.bufferedAmount ?? 0;
  }
  get binaryType(): BinaryType {
    return this.#binaryType;
  }
  set binaryType(value: BinaryType) {
    if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
  }

  get onopen(): Handler<Event> {
    return this.#handler("open");
  }
  set onopen(handler: Handler<Event>) {
    this.#setHandler("open", handler);
  }
  get onmessage(): Handler<MessageEvent> {
    return this.#handler("message");
  }
  set onmessage(handler: Handler<MessageEvent>) {
    this.#setHandler("message", handler as Handler<Event>);
  }
  get onerror(): Handler<Event | ErrorEvent> {
    return this.#handler("error");
  }
  set onerror(handler: Handler<Event | ErrorEvent>) {
    this.#setHandler("error", handler);
  }
  get onclose(): Handler<CloseEvent> {
    return this.#handler("close");
  }
  set onclose(handler: Handler<CloseEvent>) {
    this.#setHandler("close", handler as Handler<Event>);
  }

  /** Queues a message; throws `InvalidStateError` unless OPEN, as Deno's does. */
  send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required");
    }
    if (this.readyState !== OPEN) {
      throw new DOMException("'readyState' not OPEN", "InvalidStateError");
    }
    const session = this.#session!;
    if (typeof data === "string") session.sendText(data);
    else if (data instanceof Blob) session.sendBlob(data);
    else if (ArrayBuffer.isView(data)) {
      session.sendBinary(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) {
      session.sendBinary(new Uint8Array(data));
    } else session.sendText(String(data));
  }

  /**
   * Starts the closing handshake. Throws `InvalidAccessError` for a code no close frame may carry
   * and `SyntaxError` for a reason over 123 bytes of UTF-8.
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined) {
      code = clampUint16(code);
      if (!isValidCloseCode(code)) {
        throw new DOMException(
          `The close code must be 1000-1003, 1007-1014 or 3000-4999: received ${code}`,
          "InvalidAccessError",
        );
      }
    }
    const text = reason === undefined ? "" : String(reason);
    if (encoder.encode(text).length > 123) {
      throw new DOMException("The close reason may not be longer than 123 bytes", "SyntaxError");
    }
    if (code === undefined && text !== "") code = 1000;
    if (this.#session !== null) this.#session.close(code, text);
    else if (this.#state === CONNECTING) {
      this.#state = CLOSING;
      this.#earlyClose = { code, reason: text };
    }
  }

  #attach(channel: ByteChannel): void {
    if (this.#attached || this.#state === CLOSED) {
      channel.close();
      return;
    }
    this.#attached = true;
    // The open event (and reading) start after the connection loop's call returns.
    queueMicrotask(() => {
      const session = new Session(channel, this.#options, {
        message: (data) => this.#onMessage(data),
        error: (message) => this.dispatchEvent(new ErrorEvent("error", { message })),
        closed: (code, reason, wasClean) => this.#onClosed(code, reason, wasClean),
      });
      this.#session = session;
      const early = this.#earlyClose;
      if (early !== null) session.close(early.code, early.reason);
      else this.dispatchEvent(new Event("open"));
      session.start();
    });
  }

  /** The handshake was refused with an HTTP error: the socket never opens. */
  #reject(message: string): void {
    this.#state = CLOSED;
    runAfter(0, () => {
      this.dispatchEvent(new ErrorEvent("error", { message }));
      this.dispatchEvent(new CloseEvent("close", { code: CLOSE_ABNORMAL, wasClean: false }));
    });
  }

  #onMessage(data: Message): void {
    const payload = typeof data === "string" || this.#binaryType === "arraybuffer"
      ? data
      : new Blob([data]);
    this.dispatchEvent(new MessageEvent("message", { data: payload, origin: "" }));
  }

  #onClosed(code: number, reason: string, wasClean: boolean): void {
    this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
  }

  #handler<E extends Event>(type: string): Handler<E> {
    return (this.#handlers.get(type)?.handler ?? null) as Handler<E>;
  }

  /** An event handler property: one listener, added when first set, calling the current one. */
  #setHandler(type: string, handler: Handler<Event>): void {
    const value = typeof handler === "function" ? handler : null;
    const slot = this.#handlers.get(type);
    if (slot !== undefined) {
      slot.handler = value;
      return;
    }
    if (value === null) return;
    const created: HandlerSlot = {
      handler: value,
      listener: (event) => created.handler?.call(this, event),
    };
    this.#handlers.set(type, created);
    this.addEventListener(type, created.listener);
  }
}

export interface ServerWebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, ev: WebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, ev: WebSocketEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** Hands the connection over once the 101 is written: the socket opens. */
export function attachChannel(socket: ServerWebSocket, channel: ByteChannel): void {
  attach(socket, channel);
}

/** Marks a socket whose handshake was answered with an HTTP error: error and close follow. */
export function rejectSocket(socket: ServerWebSocket, message: string): void {
  reject(socket, message);
}

/** WebIDL's `[Clamp] unsigned short`: clamped to 0–65535, rounded half to even. */
function clampUint16(value: number): number {
  const x = Number(value);
  if (Number.isNaN(x)) return 0;
  const clamped = Math.min(Math.max(x, 0), 65535);
  const floor = Math.floor(clamped);
  const fraction = clamped - floor;
  if (fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}
