/**
 * The wrk report parser of bench/wrk.ts, checked against real wrk 4.1.0 reports captured on the
 * project's machines (so CI checks the harness without generating load). Each sample is verbatim
 * wrk output; expected figures are read off the sample by hand.
 */

import assert from "node:assert/strict";
import { parseWrk, totalErrors, wrkArgs } from "../../bench/wrk.ts";

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

interface Expected {
  requestsPerSec: number;
  requests: number;
  seconds: number;
  bytesRead: number;
  bytesPerSec: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
  non2xx?: number;
  read?: number;
  timeout?: number;
}

const SAMPLES: { name: string; report: string; expected: Expected }[] = [
  {
    name: "keep-alive, 1 thread, 10 connections (Deno.serve)",
    report: `Running 2s test @ http://127.0.0.1:18080/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   189.59us  672.52us  12.35ms   96.24%
    Req/Sec   108.77k    15.13k  127.80k    75.00%
  Latency Distribution
     50%   56.00us
     75%  102.00us
     90%  217.00us
     99%    3.08ms
  216649 requests in 2.01s, 26.65MB read
Requests/sec: 107867.25
Transfer/sec:     13.27MB
`,
    expected: {
      requestsPerSec: 107867.25,
      requests: 216649,
      seconds: 2.01,
      bytesRead: 26.65 * MiB,
      bytesPerSec: 13.27 * MiB,
      p99Ms: 3.08,
      p50Ms: 0.056,
      errors: 0,
    },
  },
  {
    name: "Connection: close, 2 threads, 100 connections",
    report: `Running 2s test @ http://127.0.0.1:18080/
  2 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.89ms    1.50ms  11.69ms   69.59%
    Req/Sec    14.58k     1.75k   17.63k    72.50%
  Latency Distribution
     50%    2.67ms
     75%    3.79ms
     90%    4.89ms
     99%    7.07ms
  58390 requests in 2.01s, 8.24MB read
Requests/sec:  29003.48
Transfer/sec:      4.09MB
`,
    expected: {
      requestsPerSec: 29003.48,
      requests: 58390,
      seconds: 2.01,
      bytesRead: 8.24 * MiB,
      bytesPerSec: 4.09 * MiB,
      p99Ms: 7.07,
      p50Ms: 2.67,
      errors: 0,
    },
  },
  {
    name: "every response a 404 (Non-2xx line)",
    report: `Running 1s test @ http://127.0.0.1:18081/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   627.85us    2.32ms  26.48ms   95.35%
    Req/Sec    27.07k     4.92k   38.93k    72.73%
  Latency Distribution
     50%   93.00us
     75%  210.00us
     90%    1.07ms
     99%   13.27ms
  29570 requests in 1.10s, 3.55MB read
  Non-2xx or 3xx responses: 29570
Requests/sec:  26876.64
Transfer/sec:      3.23MB
`,
    expected: {
      requestsPerSec: 26876.64,
      requests: 29570,
      seconds: 1.10,
      bytesRead: 3.55 * MiB,
      bytesPerSec: 3.23 * MiB,
      p99Ms: 13.27,
      p50Ms: 0.093,
      errors: 29570,
      non2xx: 29570,
    },
  },
  {
    name: "every request timed out (latency all 0.00us)",
    report: `Running 4s test @ http://127.0.0.1:18081/slow
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     2.00      0.00     2.00    100.00%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  8 requests in 4.01s, 0.98KB read
  Socket errors: connect 0, read 0, write 0, timeout 8
  Non-2xx or 3xx responses: 8
Requests/sec:      1.99
Transfer/sec:     251.24B
`,
    expected: {
      requestsPerSec: 1.99,
      requests: 8,
      seconds: 4.01,
      bytesRead: 0.98 * KiB,
      bytesPerSec: 251.24,
      p99Ms: NaN,
      p50Ms: NaN,
      errors: 16,
      non2xx: 8,
      timeout: 8,
    },
  },
  {
    name: "server closing half the connections (read errors)",
    report: `Running 1s test @ http://127.0.0.1:18082/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   205.10us  405.71us   5.77ms   94.63%
    Req/Sec    11.57k     2.17k   13.70k    81.82%
  Latency Distribution
     50%   89.00us
     75%  197.00us
     90%  398.00us
     99%    2.19ms
  12666 requests in 1.10s, 494.77KB read
  Socket errors: connect 0, read 25333, write 0, timeout 0
Requests/sec:  11519.43
Transfer/sec:    449.98KB
`,
    expected: {
      requestsPerSec: 11519.43,
      requests: 12666,
      seconds: 1.10,
      bytesRead: 494.77 * KiB,
      bytesPerSec: 449.98 * KiB,
      p99Ms: 2.19,
      p50Ms: 0.089,
      errors: 25333,
      read: 25333,
    },
  },
  {
    name: "16-deep pipelining (wrk prints 99% as 0.00us)",
    report: `Running 2s test @ http://127.0.0.1:37025/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   511.41us  669.20us  10.69ms   90.31%
    Req/Sec   226.68k    31.98k  269.89k    70.00%
  Latency Distribution
     50%  412.00us
     75%  614.00us
     90%    1.14ms
     99%    0.00us
  451456 requests in 2.01s, 55.54MB read
Requests/sec: 224879.19
Transfer/sec:     27.67MB
`,
    expected: {
      requestsPerSec: 224879.19,
      requests: 451456,
      seconds: 2.01,
      bytesRead: 55.54 * MiB,
      bytesPerSec: 27.67 * MiB,
      p99Ms: NaN,
      p50Ms: 0.412,
      errors: 0,
    },
  },
  {
    name: "64 KiB POST echoed",
    report: `Running 2s test @ http://127.0.0.1:37025/echo
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.86ms    1.57ms  12.35ms   88.71%
    Req/Sec     6.22k     1.42k    8.22k    65.00%
  Latency Distribution
     50%    1.28ms
     75%    1.98ms
     90%    3.75ms
     99%    8.22ms
  12376 requests in 2.00s, 774.90MB read
Requests/sec:   6181.50
Transfer/sec:    387.05MB
`,
    expected: {
      requestsPerSec: 6181.5,
      requests: 12376,
      seconds: 2.00,
      bytesRead: 774.90 * MiB,
      bytesPerSec: 387.05 * MiB,
      p99Ms: 8.22,
      p50Ms: 1.28,
      errors: 0,
    },
  },
  {
    name: "100 MiB download from nginx (GB units)",
    report: `Running 3s test @ http://127.0.0.1:37455/100m.bin
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    51.77ms    5.68ms  67.35ms   67.24%
    Req/Sec    18.90      3.56    28.00     86.67%
  Latency Distribution
     50%   50.45ms
     75%   55.46ms
     90%   61.13ms
     99%   67.35ms
  58 requests in 3.04s, 5.73GB read
Requests/sec:     19.08
Transfer/sec:      1.89GB
`,
    expected: {
      requestsPerSec: 19.08,
      requests: 58,
      seconds: 3.04,
      bytesRead: 5.73 * GiB,
      bytesPerSec: 1.89 * GiB,
      p99Ms: 67.35,
      p50Ms: 50.45,
      errors: 0,
    },
  },
];

/** wrk prints 2 decimals in its own unit: compare to that precision, relatively. */
function close(actual: number, expected: number, what: string) {
  if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${what}: ${actual}`);
  assert.ok(
    Math.abs(actual - expected) <= Math.abs(expected) * 1e-9 + 1e-9,
    `${what}: ${actual} !== ${expected}`,
  );
}

for (const { name, report, expected } of SAMPLES) {
  Deno.test(`parseWrk: ${name}`, () => {
    const r = parseWrk(report);
    close(r.requestsPerSec, expected.requestsPerSec, "requestsPerSec");
    assert.equal(r.requests, expected.requests);
    close(r.seconds, expected.seconds, "seconds");
    close(r.bytesRead, expected.bytesRead, "bytesRead");
    close(r.bytesPerSec, expected.bytesPerSec, "bytesPerSec");
    close(r.p99Ms, expected.p99Ms, "p99Ms");
    close(r.p50Ms, expected.p50Ms, "p50Ms");
    assert.equal(totalErrors(r), expected.errors);
    assert.equal(r.non2xx, expected.non2xx ?? 0);
    assert.equal(r.socketErrors.read, expected.read ?? 0);
    assert.equal(r.socketErrors.timeout, expected.timeout ?? 0);
  });
}

Deno.test("parseWrk: a failed run (connection refused) is an error, not zeros", () => {
  assert.throws(
    () => parseWrk("unable to connect to 127.0.0.1:18089 Connection refused\n"),
    /no request count.*unable to connect/,
  );
});

Deno.test("parseWrk: a report without --latency says so", () => {
  const withoutLatency = SAMPLES[0].report.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, "");
  assert.throws(() => parseWrk(withoutLatency), /--latency/);
});

Deno.test("wrkArgs: bounded run, latency on, script arguments after --", () => {
  assert.deepEqual(
    wrkArgs({
      url: "http://127.0.0.1:8000/",
      connections: 10,
      threads: 1,
      seconds: 5,
      timeoutSeconds: 5,
      script: "bench/lua/pipeline.lua",
      scriptArgs: ["16"],
      headers: ["Connection: close"],
    }),
    [
      "-t1",
      "-c10",
      "-d5s",
      "--timeout",
      "5s",
      "--latency",
      "-H",
      "Connection: close",
      "-s",
      "bench/lua/pipeline.lua",
      "http://127.0.0.1:8000/",
      "--",
      "16",
    ],
  );
});

Deno.test("wrkArgs: never more threads than connections (wrk refuses that)", () => {
  const args = wrkArgs({
    url: "http://127.0.0.1:8000/",
    connections: 1,
    threads: 2,
    seconds: 1,
    timeoutSeconds: 30,
  });
  assert.equal(args[0], "-t1");
});
