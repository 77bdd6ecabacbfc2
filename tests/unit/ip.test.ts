/** IP literals and CIDR lists (src/ip.ts): one reading per address, or none. */
import assert from "node:assert/strict";
import { CidrList, formatIp, parseIp } from "../../src/balancer/ip.ts";

Deno.test("parseIp/formatIp: strict literals, RFC 5952 output", () => {
  const table: [string, string | null][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["255.255.255.255", "255.255.255.255"],
    ["256.0.0.1", null],
    ["01.2.3.4", null], // octal to inet_aton
    ["0x7f.0.0.1", null],
    ["127.1", null],
    ["1.2.3.4.", null],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["::", "::"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ["1:2:3:4:5:6:7:8:9", null],
    ["1::2::3", null],
    ["fe80::1%eth0", null],
    ["1.2.3.4::", null],
    ["12345::", null],
    ["", null],
  ];
  for (const [text, expected] of table) {
    const bytes = parseIp(text);
    assert.equal(bytes && formatIp(bytes), expected, text);
  }
});

Deno.test("CidrList: ranges, single addresses, IPv4-mapped peers, mistakes", () => {
  const list = new CidrList(["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"]);
  for (const yes of ["10.1.2.3", "192.168.1.7", "fd12::1", "::1", "::ffff:10.9.9.9"]) {
    assert.ok(list.has(yes), yes);
  }
  for (const no of ["11.0.0.1", "192.168.1.8", "fe00::1", "::2", "nonsense", "unknown"]) {
    assert.ok(!list.has(no), no);
  }
  assert.ok(new CidrList(["0.0.0.0/0"]).has("8.8.8.8"));
  assert.ok(!new CidrList(["0.0.0.0/0"]).has("2001:db8::1"));
  assert.ok(new CidrList(["::ffff:10.0.0.0/104"]).has("10.2.3.4"));
  assert.ok(new CidrList(["127.0.0.0/31"]).has("127.0.0.1"));
  assert.ok(!new CidrList(["127.0.0.0/31"]).has("127.0.0.2"));
  for (const bad of ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "::/129", "localhost", "1.2.3"]) {
    assert.throws(() => new CidrList([bad]), TypeError, bad);
  }
});
