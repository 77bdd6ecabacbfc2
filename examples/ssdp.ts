/**
 * ssdp.ts — a small SSDP responder: the discovery half of a UPnP device, answering
 * `M-SEARCH * HTTP/1.1` with HTTP over UDP (UPnP Device Architecture 1.1, §1.3 "Discovery").
 *
 *   deno task example:ssdp                          # 0.0.0.0:1900, joins 239.255.255.250
 *   deno task example:ssdp --unicast --port 0       # 127.0.0.1, a free port, no multicast
 *
 * Ask it (unicast; a multicast search goes to 239.255.255.250:1900 and waits up to MX s):
 *
 *   printf 'M-SEARCH * HTTP/1.1\r\nHOST: 127.0.0.1:1900\r\nMAN: "ssdp:discover"\r\nST: ssdp:all\r\n\r\n' \
 *     | socat -t 1 - UDP:127.0.0.1:1900
 *
 * What it shows about `serveDatagram()`:
 * - One datagram is one request: `M-SEARCH *` arrives as an ordinary `Request` (URL path "/*"),
 *   parsed by the same parser as TCP; the handler's `Response` leaves as one datagram.
 * - `null` sends nothing. SSDP depends on it: a device MUST stay silent for a search with a bad
 *   MAN, and has nothing to say to searches for other types (UDA 1.1 §1.3.2).
 * - Multicast: the socket binds 0.0.0.0:1900 (shared with other SSDP software: reuseAddress)
 *   and joins the group; replies still go by unicast to the searcher's own address.
 * - SSDP is a well-known reflection amplifier (US-CERT TA14-017A): the per-source rate limit of
 *   `serveDatagram()` stays on.
 *
 * A complete device answers `ssdp:all` with one response per device, embedded device and
 * service (§1.3.3); an HTTPU handler answers one datagram with one, so this root device with
 * neither answers `ssdp:all` as `upnp:rootdevice`.
 *
 * Usage: ssdp.ts [--unicast] [--host H] [--port 1900] [--interface 0.0.0.0]
 *                [--type urn:...:device:T:v] [--uuid U] [--location URL]
 */
import { parseArgs } from "node:util";
import { type DatagramHandler, serveDatagram } from "../mod.ts";

const GROUP = "239.255.255.250";
const SSDP_PORT = 1900;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    unicast: { type: "boolean", default: false },
    host: { type: "string" },
    port: { type: "string", default: String(SSDP_PORT) },
    interface: { type: "string", default: "0.0.0.0" },
    type: { type: "string", default: "urn:schemas-sockserve-org:device:Example:1" },
    uuid: { type: "string", default: crypto.randomUUID() },
    location: { type: "string", default: "http://127.0.0.1:8000/description.xml" },
  },
});

const DEVICE_TYPE = values.type;
const UUID = `uuid:${values.uuid}`;
/** BOOTID.UPNP.ORG (§1.2.2): a value that grows with every boot; seconds since 1970 do. */
const BOOT_ID = String(Math.floor(Date.now() / 1000) % 2 ** 31);

/**
 * The ST and USN of the reply to a search for `st`, or null if the search is not for this device
 * (§1.3.2 lists the targets; §1.3.3 the USN for each).
 */
function match(st: string): { st: string; usn: string } | null {
  if (st === "ssdp:all" || st === "upnp:rootdevice") {
    return { st: "upnp:rootdevice", usn: `${UUID}::upnp:rootdevice` };
  }
  if (st === UUID) return { st, usn: UUID };
  // urn:domain:device:type:version — a device also answers searches for an older version of its
  // type (UPnP versions are backward compatible), naming the version searched for (§1.3.3).
  const [ours, ourVersion] = splitVersion(DEVICE_TYPE);
  const [theirs, theirVersion] = splitVersion(st);
  if (ours === theirs && theirVersion >= 1 && theirVersion <= ourVersion) {
    return { st, usn: `${UUID}::${st}` };
  }
  return null;
}

function splitVersion(urn: string): [string, number] {
  const colon = urn.lastIndexOf(":");
  return [urn.slice(0, colon), Number(urn.slice(colon + 1))];
}

const answer: DatagramHandler = async (request, info) => {
  // Everything but a search is not for a responder: NOTIFY from other devices, stray HTTP.
  if (request.method !== "M-SEARCH" || new URL(request.url).pathname !== "/*") return null;
  // §1.3.2: MAN must be exactly "ssdp:discover", quotes included, else silently discarded.
  if (request.headers.get("man") !== '"ssdp:discover"') return null;
  const st = request.headers.get("st");
  const found = st === null ? null : match(st);
  const peer = info.remoteAddr as Deno.NetAddr;
  console.log(
    `M-SEARCH ${st} from ${peer.hostname}:${peer.port}: ${found ? "answered" : "silent"}`,
  );
  if (found === null) return null;

  // A multicast search (HOST is the group) MUST carry MX, and the answer is delayed by a random
  // 0..MX seconds (MX over 5 counts as 5) so that every device on the network does not answer
  // at once. A unicast search is answered at once. (§1.3.2)
  if (request.headers.get("host") === `${GROUP}:${SSDP_PORT}`) {
    const mx = Number(request.headers.get("mx"));
    if (!Number.isInteger(mx) || mx < 1) return null;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(mx, 5) * 1000));
  }
  return new Response(null, {
    headers: {
      // §1.3.3: the fields of a search response (DATE is added by the server).
      "CACHE-CONTROL": "max-age=1800",
      "EXT": "",
      "LOCATION": values.location,
      "SERVER": `Deno/${Deno.version.deno} UPnP/1.1 sockserve-ssdp/0.1`,
      "ST": found.st,
      "USN": found.usn,
      "BOOTID.UPNP.ORG": BOOT_ID,
      "CONFIGID.UPNP.ORG": "1",
    },
  });
};

const server = serveDatagram({
  transport: "udp",
  hostname: values.host ?? (values.unicast ? "127.0.0.1" : "0.0.0.0"),
  port: Number(values.port),
  // Other SSDP software (a desktop's own UPnP stack) usually holds port 1900 as well.
  reuseAddress: !values.unicast,
  onListen(addr) {
    const { hostname, port } = addr as Deno.NetAddr;
    console.log(`ssdp: ${DEVICE_TYPE} (${UUID}) listening on ${hostname}:${port}`);
  },
}, answer);

if (!values.unicast) {
  try {
    await server.joinMulticastV4(GROUP, values.interface);
    console.log(`ssdp: joined multicast group ${GROUP} on interface ${values.interface}`);
  } catch (error) {
    // No multicast route, a container without multicast: unicast searches still work.
    console.log(`ssdp: multicast unavailable (${(error as Error).message}); unicast only`);
  }
}

async function stop(signal: Deno.Signal): Promise<void> {
  await server.shutdown();
  console.log(`${signal}: stopped, bye`);
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
