/**
 * The WebSocket echo load, one process of several started by bench/ws_load.ts:
 * `deno run --allow-net --allow-read ws_client.ts PORT CONNECTIONS BYTES text|binary DEPTH
 *  WARMUP_S SECONDS`.
 *
 * Written on raw TCP so that it costs less per message than any server it measures: every frame
 * it sends is built and masked once, before the run (RFC 6455 requires client frames to be masked
 * but not that each one gets a fresh key), and an echo is counted by reading frame headers and
 * skipping payloads, with no decoding, no events and no copies. Each connection keeps DEPTH
 * messages in flight: it writes them in one write and waits for their DEPTH echoes.
 *
 * It opens and upgrades every connection, prints `READY`, waits for a line on stdin, runs WARMUP_S
 * then SECONDS, and prints `RESULT {…}` (messages echoed in the measured seconds, the p99 round
 * trip, failures, and its own CPU seconds over the measured window, read from /proc/self/stat).
 */

/** Read buffer per connection: four 64 KiB echoes per read at most. */
const READ_BYTES = 256 * 1024;
/** How long a connection waits for the server's answer to its close frame. */
const CLOSE_WAIT_MS = 2_000;
const MASK = [0x37, 0xfa, 0x21, 0x3d];

export interface WsResult {
  messages: number;
  seconds: number;
  p99Ms: number;
  failed: number;
  firstError?: string;
  cpuSeconds: number;
}

/** One client frame (FIN set, masked with `MASK`) carrying `payload` with `opcode`. */
export function maskedFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const frame = new Uint8Array(2 + lengthBytes + 4 + n);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) frame[1] = 0x80 | n;
  else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, n);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(n));
  }
  const at = 2 + lengthBytes;
  frame.set(MASK, at);
  for (let i = 0; i < n; i++) frame[at + 4 + i] = payload[i] ^ MASK[i & 3];
  return frame;
}

/**
 * Counts the server's (unmasked) frames in a byte stream split anywhere: `feed` returns how many
 * data messages ended in the chunk. A data message of the wrong length, a masked server frame or
 * a close frame is an error.
 */
export class EchoCounter {
  #header = new Uint8Array(14);
  #have = 0;
  #skip = 0;
  #opcode = 0;
  constructor(readonly expectedBytes: number) {}

  feed(chunk: Uint8Array): number {
    let done = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - i);
        i += take;
        this.#skip -= take;
        if (this.#skip === 0) done += this.#end();
        continue;
      }
      this.#header[this.#have++] = chunk[i++];
      if (this.#have < 2) continue;
      const b1 = this.#header[1];
      if (b1 & 0x80) throw new Error("the server masked a frame");
      const len7 = b1 & 0x7f;
      const headerBytes = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      if (this.#have < headerBytes) continue;
      const view = new DataView(this.#header.buffer);
      const length = len7 === 126
        ? view.getUint16(2)
        : len7 === 127
        ? Number(view.getBigUint64(2))
        : len7;
      this.#opcode = this.#header[0] & 0x0f;
      if (this.#opcode === 8) throw new Error("the server closed the WebSocket");
      const whole = (this.#opcode === 1 || this.#opcode === 2) && (this.#header[0] & 0x80);
      if (whole && length !== this.expectedBytes) {
        throw new Error(`echo of ${length} bytes, sent ${this.expectedBytes}`);
      }
      this.#have = 0;
      this.#skip = length;
      if (length === 0) done += this.#end();
    }
    return done;
  }

  #end(): number {
    // Data frames (text, binary, or the last continuation) count; pings and pongs do not.
    return this.#opcode <= 2 && (this.#header[0] & 0x80) ? 1 : 0;
  }
}

/** User + system CPU seconds of this process so far (/proc/self/stat, in USER_HZ = 100 ticks). */
function cpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Opens a connection and upgrades it; resolves once the 101's head is read. */
async function upgrade(port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await writeAll(
      conn,
      new TextEncoder().encode(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
          `Sec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    // Read byte by byte up to the blank line, so that no frame byte is taken with the head.
    const one = new Uint8Array(1);
    let head = "";
    while (!head.endsWith("\r\n\r\n")) {
      if (head.length > 4096) throw new Error("101 head larger than 4 KiB");
      if ((await conn.read(one)) === null) throw new Error("closed during the handshake");
      head += String.fromCharCode(one[0]);
    }
    if (!head.startsWith("HTTP/1.1 101")) throw new Error(`answered ${head.split("\r\n")[0]}`);
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

/** Sends a close frame (1000) and waits for the server to close, within `CLOSE_WAIT_MS`. */
async function closeGently(conn: Deno.Conn): Promise<void> {
  const timer = setTimeout(() => conn.close(), CLOSE_WAIT_MS);
  try {
    await writeAll(conn, maskedFrame(8, new Uint8Array([0x03, 0xe8])));
    const sink = new Uint8Array(4096);
    while ((await conn.read(sink)) !== null) { /* the close frame, then EOF */ }
    conn.close();
  } catch {
    /* closed by the timer or the server reset */
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const [port, connections, bytes, kind, depth, warmup, seconds] = Deno.args;
  const size = Number(bytes);
  const payload = kind === "text"
    ? new TextEncoder().encode("x".repeat(size))
    : crypto.getRandomValues(new Uint8Array(size));
  const frame = maskedFrame(kind === "text" ? 1 : 2, payload);
  const inFlight = Number(depth);
  const batch = new Uint8Array(frame.length * inFlight);
  for (let i = 0; i < inFlight; i++) batch.set(frame, i * frame.length);

  const result: WsResult = { messages: 0, seconds: 0, p99Ms: NaN, failed: 0, cpuSeconds: 0 };
  const fail = (error: unknown) => {
    result.failed++;
    result.firstError ??= (error as Error).message;
  };
  const opened = await Promise.allSettled(
    Array.from({ length: Number(connections) }, () => upgrade(Number(port))),
  );
  const conns = opened.flatMap((o) => o.status === "fulfilled" ? [o.value] : (fail(o.reason), []));
  console.log("READY");
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  // stdin closed without a line: the harness is gone, so there is nothing to measure for.
  if ((await lines.read()).done) Deno.exit(1);

  let measuring = false;
  let running = true;
  const latencies: number[] = [];
  let trips = 0;
  const loop = async (conn: Deno.Conn) => {
    const counter = new EchoCounter(size);
    const buf = new Uint8Array(READ_BYTES);
    try {
      while (running) {
        const t0 = performance.now();
        await writeAll(conn, batch);
        for (let echoed = 0; echoed < inFlight;) {
          const n = await conn.read(buf);
          if (n === null) throw new Error("the server closed the connection");
          echoed += counter.feed(buf.subarray(0, n));
        }
        if (measuring) {
          result.messages += inFlight;
          // Every 16th round trip is kept: enough for a p99, little work per message.
          if ((++trips & 15) === 0) latencies.push(performance.now() - t0);
        }
      }
      await closeGently(conn);
    } catch (error) {
      fail(error);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  };
  const loops = conns.map(loop);
  await new Promise((r) => setTimeout(r, Number(warmup) * 1000));
  const cpu0 = cpuSeconds();
  const t0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
  measuring = false;
  result.seconds = (performance.now() - t0) / 1000;
  result.cpuSeconds = cpuSeconds() - cpu0;
  running = false;
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  result.p99Ms = latencies[Math.floor(latencies.length * 0.99)] ?? NaN;
  console.log(`RESULT ${JSON.stringify(result)}`);
}

if (import.meta.main) await main();
