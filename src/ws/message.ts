/**
 * Messages out of frames (RFC 6455 §5.4, §5.6, §8.1): the rules that span frames.
 *
 * `MessageAssembler` follows one data message at a time: a continuation needs a message to
 * continue, a new message may not start before the last one's final frame, RSV1 (compression) is
 * only set on a message's first frame. Control frames may come between fragments and never touch
 * this state. Text is validated as UTF-8 fragment by fragment with a streaming fatal decoder, so an
 * invalid prefix fails as soon as its fragment arrives (1007), and the message's size is checked
 * against `maxMessageBytes` as it grows (1009).
 *
 * Compressed fragments go through the inflater (deflate.ts) between `begin` and `append`; the
 * assembler sees the bytes the application will.
 */
import {
  CLOSE_INVALID_DATA,
  CLOSE_NO_STATUS,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_TOO_BIG,
  type Frame,
  OP_CONTINUATION,
  OP_TEXT,
} from "./frame.ts";

/** A reason to close the connection: the code to send and a message a person can act on. */
export interface Failure {
  kind: "failure";
  code: number;
  reason: string;
}

export function failure(code: number, reason: string): Failure {
  return { kind: "failure", code, reason };
}

/** A complete message: text as a string, binary as an `ArrayBuffer` of its own. */
export type Message = string | ArrayBuffer;

/** What a data frame starts: whether its payload must be inflated before `append`. */
export interface FrameStart {
  kind: "start";
  compressed: boolean;
}

const NOT_STARTED = -1;

export class MessageAssembler {
  readonly #maxMessageBytes: number;
  /** OP_TEXT or OP_BINARY while a message is in progress, NOT_STARTED between messages. */
  #opcode = NOT_STARTED;
  #compressed = false;
  #size = 0;
  #texts: string[] = [];
  #chunks: Uint8Array[] = [];
  #decoder: TextDecoder | null = null;
  readonly #fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  constructor(maxMessageBytes: number) {
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** How many more payload bytes the message in progress may take. */
  get remaining(): number {
    return this.#maxMessageBytes - this.#size;
  }

  /** Whether a fragmented message has started and not ended. */
  get inProgress(): boolean {
    return this.#opcode !== NOT_STARTED;
  }

  /** Checks a data frame's place in the sequence; call `append` with its (inflated) payload. */
  begin(frame: Frame): FrameStart | Failure {
    if (frame.opcode === OP_CONTINUATION) {
      if (this.#opcode === NOT_STARTED) {
        return failure(CLOSE_PROTOCOL_ERROR, "continuation frame without a message to continue");
      }
      if (frame.rsv1) return failure(CLOSE_PROTOCOL_ERROR, "RSV1 set on a continuation frame");
      return { kind: "start", compressed: this.#compressed };
    }
    if (this.#opcode !== NOT_STARTED) {
      return failure(CLOSE_PROTOCOL_ERROR, "new message before the last one's final frame");
    }
    this.#opcode = frame.opcode;
    this.#compressed = frame.rsv1;
    this.#size = 0;
    return { kind: "start", compressed: frame.rsv1 };
  }

  /**
   * Adds a frame's (inflated) payload; `fin` ends the message. Returns the message when it is
   * complete, null while more is to come. `bytes` is copied or decoded before this returns
   * (`new Uint8Array(bytes)` copies, where a Node `Buffer`'s `slice` would not).
   */
  append(bytes: Uint8Array, fin: boolean): Message | null | Failure {
    this.#size += bytes.length;
    if (this.#size > this.#maxMessageBytes) {
      this.#reset();
      return failure(CLOSE_TOO_BIG, `message over ${this.#maxMessageBytes} bytes`);
    }
    return this.#opcode === OP_TEXT ? this.#appendText(bytes, fin) : this.#appendBinary(bytes, fin);
  }

  #appendText(bytes: Uint8Array, fin: boolean): Message | null | Failure {
    try {
      if (fin && this.#decoder === null) {
        this.#reset();
        return this.#fatal.decode(bytes);
      }
      this.#decoder ??= new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
      const text = this.#decoder.decode(bytes, { stream: !fin });
      if (text.length > 0) this.#texts.push(text);
    } catch {
      this.#reset();
      return failure(CLOSE_INVALID_DATA, "text message is not valid UTF-8");
    }
    if (!fin) return null;
    const message = this.#texts.length === 1 ? this.#texts[0] : this.#texts.join("");
    this.#reset();
    return message;
  }

  #appendBinary(bytes: Uint8Array, fin: boolean): Message | null {
    if (fin && this.#chunks.length === 0) {
      this.#reset();
      return new Uint8Array(bytes).buffer;
    }
    if (bytes.length > 0) this.#chunks.push(new Uint8Array(bytes));
    if (!fin) return null;
    const message = new Uint8Array(this.#size);
    let at = 0;
    for (const chunk of this.#chunks) {
      message.set(chunk, at);
      at += chunk.length;
    }
    this.#reset();
    return message.buffer;
  }

  #reset(): void {
    this.#opcode = NOT_STARTED;
    this.#compressed = false;
    this.#size = 0;
    if (this.#texts.length > 0) this.#texts = [];
    if (this.#chunks.length > 0) this.#chunks = [];
    this.#decoder = null;
  }
}

/**
 * Whether `code` may appear in a close frame (RFC 6455 §7.4, IANA's registry): 1000–1003,
 * 1007–1014 and 3000–4999. 1004 is reserved, 1005/1006/1015 are never sent, 1016–2999 are
 * unassigned (Autobahn case 7.9.x), 5000 and up are undefined.
 */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

export interface CloseFrame {
  kind: "close";
  /** 1005 when the frame carried no code. */
  code: number;
  reason: string;
}

const reasonDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Reads a close frame's payload (RFC 6455 §5.5.1): empty, or a valid code and UTF-8 reason. */
export function parseClosePayload(payload: Uint8Array): CloseFrame | Failure {
  if (payload.length === 0) return { kind: "close", code: CLOSE_NO_STATUS, reason: "" };
  if (payload.length === 1) return failure(CLOSE_PROTOCOL_ERROR, "close frame of one byte");
  const code = (payload[0] << 8) | payload[1];
  if (!isValidCloseCode(code)) return failure(CLOSE_PROTOCOL_ERROR, `invalid close code ${code}`);
  try {
    return { kind: "close", code, reason: reasonDecoder.decode(payload.subarray(2)) };
  } catch {
    return failure(CLOSE_INVALID_DATA, "close reason is not valid UTF-8");
  }
}
