/**
 * The PROXY protocol parser (src/proxy.ts) on headers built from the spec's layout: v1 and v2,
 * every address family, LOCAL, TLVs, and each way a header can be truncated, oversized or wrong.
 */
import assert from "node:assert/strict";
import {
  parseProxyHeader,
  type ProxyParseResult,
  V1_MAX_BYTES,
  V2_DEFAULT_MAX_BYTES,
} from "../../src/balancer/proxy_protocol.ts";
import { concat, groups, inet, inet6, SIGNATURE, tlv, unix, v1, v2 } from "../proxy_helpers.ts";

function complete(result: ProxyParseResult) {
  assert.equal(result.status, "complete", JSON.stringify(result));
  return result as Extract<ProxyParseResult, { status: "complete" }>;
}

function errorOf(result: ProxyParseResult): string {
  assert.equal(result.status, "error", JSON.stringify(result));
  return (result as { reason: string }).reason;
}

const http = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

Deno.test("v1: TCP4 and TCP6; the length stops at CRLF, the request stays", () => {
  const line = v1("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  const r = complete(parseProxyHeader(concat(line, http)));
  assert.equal(r.length, line.length);
  assert.deepEqual(r.header, {
    version: 1,
    command: "proxy",
    source: { transport: "tcp", hostname: "192.0.2.1", port: 56324 },
    destination: { transport: "tcp", hostname: "198.51.100.2", port: 443 },
  });
  const six = complete(parseProxyHeader(v1("PROXY TCP6 2001:DB8::1 ::ffff:10.0.0.1 65535 0\r\n")));
  assert.deepEqual(six.header.source, { transport: "tcp", hostname: "2001:db8::1", port: 65535 });
  assert.deepEqual(six.header.destination, {
    transport: "tcp",
    hostname: "::ffff:a00:1",
    port: 0,
  });
});

Deno.test("v1: UNKNOWN keeps the real endpoints, whatever follows it on the line", () => {
  for (const line of ["PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"]) {
    const r = complete(parseProxyHeader(v1(line)));
    assert.equal(r.length, line.length);
    assert.equal(r.header.source, null);
    assert.equal(r.header.destination, null);
  }
});

Deno.test("v1: the longest valid line is 107 bytes; a longer one is refused without a CRLF", () => {
  // The spec's own worst case (§2.1).
  const longest = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff " +
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  assert.equal(longest.length, V1_MAX_BYTES);
  assert.equal(complete(parseProxyHeader(v1(longest))).length, 107);
  // 106 bytes without CR: the CR could only come at byte 107, making a 108-byte line.
  const noEnd = v1("PROXY UNKNOWN " + "x".repeat(92));
  assert.equal(noEnd.length, 106);
  assert.match(errorOf(parseProxyHeader(noEnd)), /longer than 107/);
  assert.equal(parseProxyHeader(noEnd.subarray(0, 105)).status, "incomplete");
  assert.match(errorOf(parseProxyHeader(v1("PROXY UNKNOWN " + "x".repeat(200)))), /107/);
});

Deno.test("v1: every prefix of a valid line is incomplete", () => {
  const line = v1("PROXY TCP4 10.1.2.3 10.0.0.1 1234 80\r\n");
  for (let n = 0; n < line.length; n++) {
    assert.equal(parseProxyHeader(line.subarray(0, n)).status, "incomplete", `${n} bytes`);
  }
});

Deno.test("v1: strict syntax", () => {
  const bad: [string, RegExp][] = [
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", /printable/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", /CR without LF/],
    ["PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", /needs protocol/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", /needs protocol/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", /needs protocol/],
    ["PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", /TCP4, TCP6 or UNKNOWN/],
    ["PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", /TCP4, TCP6 or UNKNOWN/],
    ["PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", /address/],
    ["PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", /address/],
    ["PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", /address/],
    ["PROXY TCP4 ::1 5.6.7.8 1 2\r\n", /address/],
    ["PROXY TCP6 1.2.3.4 ::1 1 2\r\n", /address/],
    ["PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", /address/],
    ["PROXY TCP6 1::2::3 ::1 1 2\r\n", /address/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", /port/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n", /port/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", /port/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\tx\r\n", /printable/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 \x802\r\n", /printable/],
    ["PROXY \r\n", /needs protocol|TCP4/],
  ];
  for (const [line, reason] of bad) {
    assert.match(errorOf(parseProxyHeader(v1(line))), reason, JSON.stringify(line));
  }
});

Deno.test("neither signature: an error at the first byte that differs", () => {
  for (const text of ["GET / HTTP/1.1\r\n", "proxy TCP4", "PROXY", "PROXZ", "\r\n\r\nX"]) {
    const bytes = v1(text);
    const result = parseProxyHeader(bytes);
    if (text === "PROXY") assert.equal(result.status, "incomplete");
    else assert.match(errorOf(result), /no PROXY protocol header/, JSON.stringify(text));
  }
  // A v2 signature with one byte changed.
  const header = v2(1, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
  for (let i = 0; i < SIGNATURE.length; i++) {
    const wrong = header.slice();
    wrong[i] ^= 0x40;
    assert.equal(parseProxyHeader(wrong).status, "error", `signature byte ${i}`);
  }
});

Deno.test("v2: PROXY over IPv4, IPv6 and Unix sockets", () => {
  const four = v2(1, 0x11, inet([203, 0, 113, 7], [10, 0, 0, 1], 40000, 8080));
  const r4 = complete(parseProxyHeader(concat(four, http)));
  assert.equal(r4.length, 16 + 12);
  assert.deepEqual(r4.header, {
    version: 2,
    command: "proxy",
    source: { transport: "tcp", hostname: "203.0.113.7", port: 40000 },
    destination: { transport: "tcp", hostname: "10.0.0.1", port: 8080 },
  });
  const six = v2(
    1,
    0x21,
    inet6(groups(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), groups(0, 0, 0, 0, 0, 0, 0, 1), 1, 65535),
  );
  const r6 = complete(parseProxyHeader(six));
  assert.equal(r6.length, 16 + 36);
  assert.deepEqual(r6.header.source, { transport: "tcp", hostname: "2001:db8::1", port: 1 });
  assert.deepEqual(r6.header.destination, { transport: "tcp", hostname: "::1", port: 65535 });
  const sock = v2(1, 0x31, unix("/run/client.sock", "/run/sockserve.sock"));
  const ru = complete(parseProxyHeader(sock));
  assert.equal(ru.length, 16 + 216);
  assert.deepEqual(ru.header.source, { transport: "unix", path: "/run/client.sock" });
  assert.deepEqual(ru.header.destination, { transport: "unix", path: "/run/sockserve.sock" });
});

Deno.test("v2: LOCAL and UNSPEC keep the real endpoints; the block is skipped whole", () => {
  const local = v2(0, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
  const r = complete(parseProxyHeader(concat(local, http)));
  assert.equal(r.length, 28);
  assert.deepEqual(r.header, { version: 2, command: "local", source: null, destination: null });
  // LOCAL with an empty block and any family (HAProxy's health checks send 0x00).
  assert.equal(complete(parseProxyHeader(v2(0, 0x00, []))).length, 16);
  assert.equal(complete(parseProxyHeader(v2(0, 0x77, [9, 9]))).header.command, "local");
  const unspec = complete(parseProxyHeader(v2(1, 0x00, [1, 2, 3])));
  assert.equal(unspec.length, 19);
  assert.equal(unspec.header.source, null);
});

Deno.test("v2: TLVs after the addresses are skipped within bounds", () => {
  const addresses = inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
  const tlvs = [...tlv(0x01, [...v1("h2")]), ...tlv(0x04, []), ...tlv(0xea, new Array(40).fill(7))];
  const r = complete(parseProxyHeader(v2(1, 0x11, [...addresses, ...tlvs])));
  assert.equal(r.length, 16 + addresses.length + tlvs.length);
  assert.equal((r.header.source as Deno.NetAddr).hostname, "1.2.3.4");
  // A TLV whose length runs past the block, or a TLV header cut short.
  const overrun = [...addresses, 0x01, 0x00, 0x05, 1, 2];
  assert.match(errorOf(parseProxyHeader(v2(1, 0x11, overrun))), /TLV runs past/);
  assert.match(errorOf(parseProxyHeader(v2(1, 0x11, [...addresses, 0x01, 0x00]))), /cut short/);
});

Deno.test("v2: truncated headers are incomplete at every length", () => {
  const headers = [
    v2(1, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)),
    v2(1, 0x21, inet6(groups(1, 2, 3, 4, 5, 6, 7, 8), groups(8, 7, 6, 5, 4, 3, 2, 1), 3, 4)),
    v2(1, 0x31, unix("/a", "/b")),
    v2(0, 0x00, []),
  ];
  for (const header of headers) {
    for (let n = 0; n < header.length; n++) {
      assert.equal(parseProxyHeader(header.subarray(0, n)).status, "incomplete", `${n}`);
    }
    assert.equal(parseProxyHeader(header).status, "complete");
  }
});

Deno.test("v2: oversized, wrong version or command, unknown or datagram families", () => {
  const block = inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
  const padded = (total: number) =>
    v2(1, 0x11, [...block, ...tlv(0xea, new Array(total - 16 - 12 - 3).fill(0))]);
  const big = padded(V2_DEFAULT_MAX_BYTES + 1);
  // Refused from its first 16 bytes: the declared length alone is too large.
  assert.match(errorOf(parseProxyHeader(big.subarray(0, 16))), /larger than 1024/);
  assert.equal(complete(parseProxyHeader(padded(V2_DEFAULT_MAX_BYTES))).length, 1024);
  assert.equal(parseProxyHeader(big, 2048).status, "complete");
  const version1 = v2(1, 0x11, block);
  version1[12] = 0x11;
  assert.match(errorOf(parseProxyHeader(version1)), /version must be 2/);
  assert.match(errorOf(parseProxyHeader(v2(2, 0x11, block))), /LOCAL or PROXY/);
  assert.match(errorOf(parseProxyHeader(v2(0xf, 0x11, block))), /LOCAL or PROXY/);
  for (const famProto of [0x12, 0x22, 0x32]) {
    assert.match(errorOf(parseProxyHeader(v2(1, famProto, block))), /datagram/);
  }
  for (const famProto of [0x01, 0x10, 0x13, 0x41, 0xff]) {
    assert.match(errorOf(parseProxyHeader(v2(1, famProto, block))), /unknown/);
  }
  // Address blocks shorter than their family needs.
  assert.match(errorOf(parseProxyHeader(v2(1, 0x11, block.slice(0, 11)))), /IPv4/);
  assert.match(errorOf(parseProxyHeader(v2(1, 0x21, new Array(35).fill(0)))), /IPv6/);
  assert.match(errorOf(parseProxyHeader(v2(1, 0x31, new Array(215).fill(0)))), /Unix/);
});
