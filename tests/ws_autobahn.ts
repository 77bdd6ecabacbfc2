/**
 * The Autobahn TestSuite's fuzzing-client cases (github.com/crossbario/autobahn-testsuite,
 * autobahntestsuite/case/) as tables: what the client writes, byte for byte, and the frames the
 * server must answer with, over a real socket against an echo server built on `upgradeWebSocket`.
 *
 * A case is a list of steps. Bytes are one write; an array of bytes is several writes (Autobahn's
 * "chops"); an expectation reads the server's next frame. When the server's close frame arrives
 * the client answers it (unless it closed first), and every case ends with the server closing the
 * TCP connection. Where Autobahn waits between writes to see whether the server fails fast, the
 * case expects the server's close before writing the rest.
 */
import assert from "node:assert/strict";
import { encodeFrame, OP_CLOSE, OP_TEXT } from "../src/ws/frame.ts";
import { upgradeWebSocket, type UpgradeWebSocketOptions } from "../src/ws/upgrade_websocket.ts";
import { closeOf, RawClient, startEchoServer } from "./ws_helpers.ts";

export type Expect =
  | { text: string }
  | { binary: Uint8Array }
  | { pong: Uint8Array | string }
  | { close: number };

/** The client's own close frame: the server's close that follows is its answer. */
export interface ClientClose {
  clientClose: Uint8Array;
}

export type Step = Uint8Array | Uint8Array[] | Expect | ClientClose;

export interface Case {
  id: string;
  title: string;
  steps: Step[];
  options?: UpgradeWebSocketOptions;
}

const MASK = new Uint8Array([0x9a, 0x05, 0xc3, 0x71]);
const utf8 = new TextEncoder();

export function bytesOf(payload: Uint8Array | string): Uint8Array {
  return typeof payload === "string" ? utf8.encode(payload) : payload;
}

/** A masked client frame; `rsv` is the three reserved bits as a number (4 = RSV1). */
export function frame(
  opcode: number,
  payload: Uint8Array | string = "",
  fin = true,
  rsv = 0,
): Uint8Array {
  const bytes = encodeFrame(opcode, bytesOf(payload), { fin, mask: MASK });
  bytes[0] |= rsv << 4;
  return bytes;
}

export const text = (payload: Uint8Array | string, fin = true) => frame(OP_TEXT, payload, fin);

export function clientClose(code?: number, reason = ""): ClientClose {
  const payload = code === undefined
    ? new Uint8Array(0)
    : new Uint8Array([code >> 8, code & 0xff, ...utf8.encode(reason)]);
  return { clientClose: frame(OP_CLOSE, payload) };
}

/** The bytes cut into writes of `size` (1: byte by byte). */
export function chops(bytes: Uint8Array, size: number): Uint8Array[] {
  const writes: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) writes.push(bytes.subarray(at, at + size));
  return writes;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** A text message as fragments of `size` bytes. */
export function fragments(opcode: number, payload: Uint8Array, size: number): Uint8Array {
  const frames: Uint8Array[] = [];
  for (let at = 0; at === 0 || at < payload.length; at += size) {
    const last = at + size >= payload.length;
    frames.push(frame(at === 0 ? opcode : 0, payload.subarray(at, at + size), last));
  }
  return concat(...frames);
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: byte ${i} is ${actual[i]}`);
  }
}

/** An echo server for one case: its port, disposed when the case ends. */
export type EchoServerStarter = (
  options: UpgradeWebSocketOptions | undefined,
) => { port: number; [Symbol.asyncDispose](): Promise<void> };

const onTestChannel: EchoServerStarter = (options) =>
  startEchoServer((request) => upgradeWebSocket(request, options));

/** Runs one case against a fresh echo server (by default one over the test channel). */
export async function runCase(c: Case, start: EchoServerStarter = onTestChannel): Promise<void> {
  await using server = start(c.options);
  const client = await RawClient.connect(server.port);
  client.conn.setNoDelay(true);
  let closeSent = false;
  try {
    for (const step of c.steps) {
      if (step instanceof Uint8Array) await client.send(step);
      else if (Array.isArray(step)) { for (const write of step) await client.send(write); }
      else if ("clientClose" in step) {
        closeSent = true;
        await client.send(step.clientClose);
      } else {
        const got = await client.readFrame();
        assert.ok(got !== null, `expected ${JSON.stringify(step)}, the server closed`);
        if ("text" in step) {
          assert.equal(got.opcode, OP_TEXT, "a text message");
          assert.equal(new TextDecoder().decode(got.payload), step.text);
        } else if ("binary" in step) {
          assert.equal(got.opcode, 2, "a binary message");
          sameBytes(got.payload, step.binary, "binary message");
        } else if ("pong" in step) {
          assert.equal(got.opcode, 0xa, "a pong");
          sameBytes(got.payload, bytesOf(step.pong), "pong payload");
        } else {
          assert.equal(got.opcode, OP_CLOSE, "a close frame");
          assert.equal(closeOf(got).code, step.close, "close code");
          if (!closeSent) {
            closeSent = true;
            await client.send(frame(OP_CLOSE, got.payload.subarray(0, 2)));
          }
        }
      }
    }
    assert.equal(await client.readFrame(), null, "the server closes the TCP connection");
  } finally {
    client.close();
  }
}

/** Registers each case as a test named by its Autobahn number and title. */
export function registerCases(cases: Case[]): void {
  for (const c of cases) Deno.test(`Autobahn ${c.id}: ${c.title}`, () => runCase(c));
}
