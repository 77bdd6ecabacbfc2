/**
 * The load of the idle-connections scenario, run as its own process by bench/idle_load.ts:
 * `deno run --allow-net idle_client.ts PORT PATH TOTAL FIRST SAMPLE`.
 *
 * It opens FIRST keep-alive connections, sends one GET on each and reads the answer, prints
 * `STEP {…}` and waits for a line on stdin; then does the same for the rest up to TOTAL and prints
 * `IDLE {…}`; on the next line it sends one more GET on SAMPLE of the connections spread over the
 * whole set, prints `DONE {…}` and exits (closing everything). Between the lines the connections
 * sit idle, which is when the harness reads the server's memory.
 *
 * Opening is bounded to `IN_FLIGHT` connections at a time, well under the listen backlog, so
 * that no SYN is dropped and retried a second later: the tool must not be what takes long.
 */

/** Connections being opened (connect, request, response) at once. */
const IN_FLIGHT = 128;
/** Largest response head + body accepted: the hello-world answers are about 150 bytes. */
const MAX_RESPONSE_BYTES = 16 * 1024;

export interface IdleReport {
  /** Connections open and answered so far. */
  open: number;
  /** Connections or requests that failed (connect error, no answer, not a 2xx). */
  failed: number;
  /** The first failure's message, for the report. */
  firstError?: string;
  /** Milliseconds this phase took. */
  ms: number;
  /** 99th percentile of the phase's request latencies, milliseconds. */
  p99Ms: number;
}

const CRLFCRLF = [13, 10, 13, 10];

/** Index of the end of the head (after CRLFCRLF) in `buf[0..n)`, or -1. */
function headEnd(buf: Uint8Array, n: number): number {
  outer: for (let i = 0; i + 4 <= n; i++) {
    for (let j = 0; j < 4; j++) if (buf[i + j] !== CRLFCRLF[j]) continue outer;
    return i + 4;
  }
  return -1;
}

/**
 * Reads one response with a Content-Length (every peer answers the hello world with one) and
 * throws unless it is complete and 2xx. Keep-alive responses only: a server that closes the
 * connection fails the request.
 */
export async function readResponse(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(MAX_RESPONSE_BYTES);
  let n = 0;
  let end = -1;
  let total = -1;
  while (total < 0 || n < total) {
    if (n === buf.length) throw new Error("response larger than 16 KiB");
    const got = await conn.read(buf.subarray(n));
    if (got === null) throw new Error(n === 0 ? "closed without answering" : "closed mid-response");
    n += got;
    if (end < 0 && (end = headEnd(buf, n)) >= 0) {
      const head = new TextDecoder().decode(buf.subarray(0, end));
      const status = head.match(/^HTTP\/1\.[01] (\d{3})/)?.[1];
      if (!status?.startsWith("2")) throw new Error(`answered ${head.split("\r\n")[0]}`);
      const length = head.match(/\r\ncontent-length:\s*(\d+)/i)?.[1];
      if (length === undefined) throw new Error("answer without a Content-Length");
      total = end + Number(length);
    }
  }
  if (n > total) throw new Error("more bytes than the Content-Length");
}

/** The 99th percentile of `ms` (nearest rank); NaN when empty. */
export function p99(ms: number[]): number {
  if (ms.length === 0) return NaN;
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)];
}

class Phase {
  readonly started = performance.now();
  readonly latencies: number[] = [];
  failed = 0;
  firstError?: string;
  fail(error: unknown) {
    this.failed++;
    this.firstError ??= (error as Error).message;
  }
  report(open: number): IdleReport {
    const { failed, firstError } = this;
    const ms = Math.round(performance.now() - this.started);
    return { open, failed, firstError, ms, p99Ms: p99(this.latencies) };
  }
}

async function request(conn: Deno.Conn, bytes: Uint8Array, phase: Phase): Promise<boolean> {
  const t0 = performance.now();
  try {
    await conn.write(bytes);
    await readResponse(conn);
    phase.latencies.push(performance.now() - t0);
    return true;
  } catch (error) {
    phase.fail(error);
    return false;
  }
}

/** Opens `count` connections with one answered request each, `IN_FLIGHT` at a time. */
async function open(
  port: number,
  bytes: Uint8Array,
  count: number,
  into: Deno.Conn[],
  phase: Phase,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      let conn: Deno.Conn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch (error) {
        phase.fail(error);
        continue;
      }
      if (await request(conn, bytes, phase)) into.push(conn);
      else conn.close();
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, lane));
}

async function main(): Promise<void> {
  const [port, path, total, first, sample] = [
    Number(Deno.args[0]),
    Deno.args[1] ?? "/",
    Number(Deno.args[2] ?? 10_000),
    Number(Deno.args[3] ?? 1_000),
    Number(Deno.args[4] ?? 500),
  ];
  const bytes = new TextEncoder().encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: sockserve-bench\r\n\r\n`,
  );
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  const waitForLine = async () => {
    if ((await lines.read()).done) throw new Error("stdin closed");
  };
  const conns: Deno.Conn[] = [];
  const say = (tag: string, report: IdleReport) => console.log(`${tag} ${JSON.stringify(report)}`);

  let phase = new Phase();
  await open(port, bytes, first, conns, phase);
  say("STEP", phase.report(conns.length));
  await waitForLine();

  const { failed, firstError } = phase;
  phase = new Phase();
  Object.assign(phase, { failed, firstError });
  await open(port, bytes, total - first, conns, phase);
  say("IDLE", phase.report(conns.length));
  await waitForLine();

  // The sample is spread over the whole set: the first and the last connections opened have
  // been idle the longest and the shortest.
  const sampled = Math.min(sample, conns.length);
  const stride = conns.length / Math.max(1, sampled);
  const again = new Phase();
  await Promise.all(
    Array.from({ length: sampled }, (_, i) => request(conns[Math.floor(i * stride)], bytes, again)),
  );
  say("DONE", again.report(sampled - again.failed));
  for (const conn of conns) conn.close();
}

if (import.meta.main) await main();
