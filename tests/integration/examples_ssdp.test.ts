/**
 * examples/ssdp.ts over real UDP sockets: unicast searches on loopback (always), and a multicast
 * search through 239.255.255.250 when the platform lets the example join the group.
 */
import assert from "node:assert/strict";
import { deadline, encode, Example } from "../examples_helpers.ts";
import { parseResponses } from "../helpers.ts";

const TASK = "example:ssdp";
const GROUP = "239.255.255.250";
const TYPE = "urn:schemas-sockserve-org:device:Example:2";
const UUID = "2fac1234-31f8-11b4-a222-08002b34c003";
const LOCATION = "http://127.0.0.1:8000/description.xml";
const ARGS = ["--port", "0", "--type", TYPE, "--uuid", UUID, "--location", LOCATION];

function search(st: string, host: string, extra = ""): string {
  return `M-SEARCH * HTTP/1.1\r\nHOST: ${host}\r\nMAN: "ssdp:discover"\r\nST: ${st}\r\n${extra}\r\n`;
}

class Searcher implements Disposable {
  socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });

  async send(text: string, hostname: string, port: number): Promise<void> {
    await this.socket.send(encode(text), { transport: "udp", hostname, port });
  }

  async reply() {
    const [data, from] = await deadline(this.socket.receive(), "a search response");
    const responses = parseResponses(new TextDecoder().decode(data));
    assert.equal(responses.length, 1);
    return { ...responses[0], from: from as Deno.NetAddr };
  }

  [Symbol.dispose](): void {
    this.socket.close();
  }
}

Deno.test("ssdp: answers unicast M-SEARCH with a UPnP search response, silent otherwise", async () => {
  await using example = new Example(TASK, ["--unicast", ...ARGS]);
  const port = await example.listeningPort();
  using searcher = new Searcher();
  const host = `127.0.0.1:${port}`;

  await searcher.send(search("ssdp:all", host), "127.0.0.1", port);
  const all = await searcher.reply();
  assert.equal(all.version, "HTTP/1.1");
  assert.equal(all.status, 200);
  assert.equal(all.reason, "OK");
  assert.equal(all.from.port, port, "the reply comes from the SSDP port");
  assert.equal(all.headers.get("cache-control"), "max-age=1800");
  assert.equal(all.headers.get("ext"), "");
  assert.equal(all.headers.get("location"), LOCATION);
  assert.match(all.headers.get("server")!, /^\S+\/\S+ UPnP\/1\.1 \S+\/\S+$/);
  assert.equal(all.headers.get("st"), "upnp:rootdevice");
  assert.equal(all.headers.get("usn"), `uuid:${UUID}::upnp:rootdevice`);
  assert.equal(all.headers.get("content-length"), "0");
  assert.ok(all.headers.has("date"));
  assert.ok(all.headers.has("bootid.upnp.org"));

  // Its own type, and an older version of it: the reply names the version searched for.
  for (const st of [TYPE, TYPE.replace(/2$/, "1")]) {
    await searcher.send(search(st, host), "127.0.0.1", port);
    const reply = await searcher.reply();
    assert.equal(reply.headers.get("st"), st);
    assert.equal(reply.headers.get("usn"), `uuid:${UUID}::${st}`);
  }
  await searcher.send(search(`uuid:${UUID}`, host), "127.0.0.1", port);
  assert.equal((await searcher.reply()).headers.get("usn"), `uuid:${UUID}`);

  // Searches that do not concern it get no reply. Each is followed by one that does, from the
  // same socket: the first datagram back must be that one's answer.
  const silent = [
    search("urn:schemas-upnp-org:device:MediaServer:1", host), // another type
    search(TYPE.replace(/2$/, "3"), host), // a newer version than it has
    search("ssdp:all", host).replace('"ssdp:discover"', "ssdp:discover"), // MAN without quotes
    `NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n` +
    `NTS: ssdp:alive\r\nUSN: uuid:other::upnp:rootdevice\r\n\r\n`,
    search("ssdp:all", "239.255.255.250:1900"), // a multicast-style search without MX
  ];
  for (const request of silent) {
    await searcher.send(request, "127.0.0.1", port);
    await searcher.send(search(`uuid:${UUID}`, host), "127.0.0.1", port);
    const reply = await searcher.reply();
    assert.equal(reply.headers.get("st"), `uuid:${UUID}`, `no reply to ${JSON.stringify(request)}`);
  }

  await example.waitFor(/^M-SEARCH urn:schemas-upnp-org:device:MediaServer:1 from .*: silent$/);
  const { code, stdout } = await example.stop("SIGTERM");
  assert.equal(code, 0);
  assert.match(stdout, /SIGTERM: stopped, bye/);
});

Deno.test("ssdp: a search sent to the multicast group is answered by unicast", async () => {
  await using example = new Example(TASK, [...ARGS, "--interface", "127.0.0.1"]);
  const port = await example.listeningPort();
  const [line] = await example.waitFor(/^ssdp: (joined multicast group|multicast unavailable)/);
  using searcher = new Searcher();
  if (line.startsWith("ssdp: joined")) {
    // MX 1: the device waits a random 0–1 s before answering, as §1.3.2 asks.
    await searcher.send(search("ssdp:all", "239.255.255.250:1900", "MX: 1\r\n"), GROUP, port);
    const reply = await searcher.reply();
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get("usn"), `uuid:${UUID}::upnp:rootdevice`);
  } else {
    // The platform refused the group (no multicast route): the fallback is unicast, still served.
    console.log(`multicast not available here: ${line}`);
    await searcher.send(search("ssdp:all", `127.0.0.1:${port}`), "127.0.0.1", port);
    assert.equal((await searcher.reply()).status, 200);
  }
  assert.equal((await example.stop("SIGINT")).code, 0);
});
