/**
 * The demo over UDP: the same handler behind `serveDatagram()`, one datagram per request and
 * one per reply. UDP has no connections, so the live panel's "UDP" figure is the nearest thing:
 * the distinct peers (address and port) heard from in the last second, counted here as requests
 * pass through; requests and bytes are the datagram server's own counters.
 */
import { serveDatagram } from "../mod.ts";
import type { ServeHandler, ServerStats } from "../src/options.ts";
import type { StatsSource } from "./stats.ts";

/** What the demo needs of its UDP listener. */
export interface UdpServer extends StatsSource {
  readonly addr: Deno.Addr;
  shutdown(): Promise<void>;
}

/** The window "recently" means, in milliseconds. */
export const PEER_WINDOW_MS = 1000;

/** Peers by "address:port" with the time they were last heard from. */
export class RecentPeers {
  #lastSeen = new Map<string, number>();
  #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  record(addr: Deno.Addr): void {
    const key = addr.transport === "udp" ? `${addr.hostname}:${addr.port}` : JSON.stringify(addr);
    this.#lastSeen.delete(key); // re-inserted last: the map stays ordered by time
    this.#lastSeen.set(key, this.#now());
  }

  /** Peers heard from within the last `PEER_WINDOW_MS`; older ones are forgotten. */
  count(): number {
    const since = this.#now() - PEER_WINDOW_MS;
    for (const [key, seen] of this.#lastSeen) {
      if (seen >= since) break;
      this.#lastSeen.delete(key);
    }
    return this.#lastSeen.size;
  }
}

export interface UdpOptions {
  hostname: string;
  port: number;
  onListen: (addr: Deno.Addr) => void;
}

/** Binds the UDP socket and answers `handler`'s responses in datagrams. */
export function serveUdp(options: UdpOptions, handler: ServeHandler): UdpServer {
  const peers = new RecentPeers();
  const server = serveDatagram({ transport: "udp", ...options }, (request, info) => {
    peers.record(info.remoteAddr);
    return handler(request, info);
  });
  return {
    addr: server.addr,
    shutdown: () => server.shutdown(),
    stats: (): ServerStats => ({ ...server.stats(), connections: peers.count() }),
  };
}
