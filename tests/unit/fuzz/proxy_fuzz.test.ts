/**
 * Properties of the PROXY protocol parser (src/proxy.ts) and of reading it off a connection
 * (src/proxy_conn.ts), like the request-head fuzzing:
 * - any bytes give complete, incomplete or error, never an exception, and never "incomplete"
 *   past the bounds (107 bytes for v1, the v2 limit);
 * - a header serialised from generated addresses parses back to them, whatever follows it;
 * - prefixes agree with the whole: incomplete before the end, the same answer after it;
 * - the same bytes arriving split at any points give the same header and leave the same bytes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { BufferedReader } from "../../../src/io/reader.ts";
import { formatIp } from "../../../src/balancer/ip.ts";
import {
  parseProxyHeader,
  V1_MAX_BYTES,
  V2_DEFAULT_MAX_BYTES,
} from "../../../src/balancer/proxy_protocol.ts";
import { readProxyHeader } from "../../../src/balancer/proxy_conn.ts";
import { concat, inet, inet6, SIGNATURE, tlv, unix, v1, v2 } from "../../proxy_helpers.ts";
import { anyBytes, cuts, params, pieces, RUNS } from "./arbitraries.ts";

interface Generated {
  bytes: Uint8Array;
  source: Deno.Addr | null;
}

const port = fc.integer({ min: 0, max: 65535 });
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const tlvs = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 })),
  { maxLength: 4 },
).map((list) => list.flatMap(([type, value]) => tlv(type, [...value])));
const path = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz/._-"),
  minLength: 1,
  maxLength: 107,
});

/** A valid header of either version and any family, with the source it announces. */
const validHeader: fc.Arbitrary<Generated> = fc.oneof(
  fc.tuple(ipv4, ipv4, port, port).map(([s, d, sp, dp]) => ({
    bytes: v1(`PROXY TCP4 ${formatIp(s)} ${formatIp(d)} ${sp} ${dp}\r\n`),
    source: { transport: "tcp" as const, hostname: formatIp(s), port: sp },
  })),
  fc.tuple(ipv6, ipv6, port, port).map(([s, d, sp, dp]) => ({
    bytes: v1(`PROXY TCP6 ${formatIp(s)} ${formatIp(d)} ${sp} ${dp}\r\n`),
    source: { transport: "tcp" as const, hostname: formatIp(s), port: sp },
  })),
  fc.tuple(ipv4, ipv4, port, port, tlvs).map(([s, d, sp, dp, t]) => ({
    bytes: v2(1, 0x11, [...inet([...s], [...d], sp, dp), ...t]),
    source: { transport: "tcp" as const, hostname: formatIp(s), port: sp },
  })),
  fc.tuple(ipv6, ipv6, port, port, tlvs).map(([s, d, sp, dp, t]) => ({
    bytes: v2(1, 0x21, [...inet6([...s], [...d], sp, dp), ...t]),
    source: { transport: "tcp" as const, hostname: formatIp(s), port: sp },
  })),
  fc.tuple(path, path, tlvs).map(([s, d, t]) => ({
    bytes: v2(1, 0x31, [...unix(s, d), ...t]),
    source: { transport: "unix" as const, path: s },
  })),
  fc.uint8Array({ maxLength: 60 }).map((block) => ({
    bytes: v2(0, 0x11, [...block]),
    source: null,
  })),
);

/** Noise that starts like a header, so the parser gets past its first bytes. */
const headerLike = fc.oneof(
  anyBytes,
  anyBytes.map((rest) => concat(v1("PROXY "), rest)),
  fc.tuple(fc.constantFrom("TCP4 ", "TCP6 ", "UNKNOWN"), anyBytes).map(([p, rest]) =>
    concat(v1(`PROXY ${p}`), rest)
  ),
  anyBytes.map((rest) => concat(new Uint8Array(SIGNATURE), rest)),
  validHeader.chain(({ bytes }) =>
    fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })).map(([at, value]) => {
      const copy = bytes.slice();
      copy[at] = value;
      return copy;
    })
  ),
);

Deno.test("proxy fuzz: any bytes give complete, incomplete or error, within the bounds", () => {
  fc.assert(
    fc.property(headerLike, (bytes) => {
      const result = parseProxyHeader(bytes);
      assert.ok(["complete", "incomplete", "error"].includes(result.status));
      if (result.status === "complete") {
        assert.ok(result.length <= bytes.length);
        assert.ok(result.length <= Math.max(V1_MAX_BYTES, V2_DEFAULT_MAX_BYTES));
      }
      if (result.status === "incomplete") {
        assert.ok(bytes.length < V2_DEFAULT_MAX_BYTES, "incomplete past every bound");
        if (bytes[0] === 0x50) assert.ok(bytes.length < V1_MAX_BYTES, "v1 incomplete past 107");
      }
    }),
    params(),
  );
});

Deno.test("proxy fuzz: valid headers parse back, whatever follows them", () => {
  fc.assert(
    fc.property(validHeader, anyBytes, ({ bytes, source }, rest) => {
      const result = parseProxyHeader(concat(bytes, rest));
      assert.equal(result.status, "complete");
      if (result.status !== "complete") return;
      assert.equal(result.length, bytes.length);
      assert.deepEqual(result.header.source, source);
    }),
    params(),
  );
});

Deno.test("proxy fuzz: a prefix is incomplete before the end and agrees after it", () => {
  fc.assert(
    fc.property(fc.oneof(headerLike, validHeader.map((h) => h.bytes)), (bytes) => {
      const whole = parseProxyHeader(bytes);
      for (let n = 0; n < bytes.length; n++) {
        const part = parseProxyHeader(bytes.subarray(0, n));
        if (whole.status === "complete" && n < whole.length) {
          assert.equal(part.status, "incomplete", `${n} of ${whole.length}`);
        } else if (part.status !== "incomplete") {
          assert.deepEqual(part, whole, `prefix of ${n}`);
        }
      }
    }),
    params(RUNS / 3),
  );
});

Deno.test("proxy fuzz: split reads give the same header and leave the same bytes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(headerLike, validHeader.map((h) => h.bytes)).chain((bytes) =>
        fc.tuple(fc.constant(bytes), cuts(bytes.length))
      ),
      async ([bytes, at]) => {
        const whole = parseProxyHeader(bytes);
        const reader = new BufferedReader(pieces(bytes, at), 64);
        const header = await readProxyHeader(reader);
        if (whole.status === "complete") {
          assert.deepEqual(header, whole.header);
          const rest = [...reader.peek()];
          while (await reader.fill() !== null) rest.push(...reader.peek().slice(rest.length));
          assert.deepEqual(rest, [...bytes.subarray(whole.length)]);
        } else {
          assert.equal(typeof header, "string");
        }
      },
    ),
    params(RUNS / 3),
  );
});
