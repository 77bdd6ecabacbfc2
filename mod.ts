/**
 * sockserve: an HTTP/1.1 server on Deno's raw sockets.
 *
 * ```ts
 * import { serve } from "./mod.ts";
 * serve({ port: 8000 }, (req) => new Response("Hello there!"));
 * ```
 *
 * @module
 */
export { serve } from "./src/server.ts";
export { upgrade } from "./src/handler/upgrade_api.ts";
export type { Upgrade, UpgradedSocket, UpgradeOptions } from "./src/handler/upgrade_api.ts";
export { HttpError } from "./src/errors.ts";
export { fileServer } from "./src/static/mod.ts";
export type { DotfilesPolicy, FileServerOptions } from "./src/static/mod.ts";
export { DEFAULT_LIMITS } from "./src/options.ts";
export { DEFAULT_MAX_DATAGRAM_BYTES, DEFAULT_RATE_LIMIT, serveDatagram } from "./src/datagram.ts";
export type {
  DatagramHandler,
  DatagramHandlerInfo,
  DatagramLimits,
  DatagramServeOptions,
  DatagramServer,
  DatagramTransport,
  RateLimit,
  UdpServeOptions,
  UnixPacketServeOptions,
} from "./src/datagram.ts";
export type {
  HttpServer,
  Limits,
  ServeHandler,
  ServeHandlerInfo,
  ServeInit,
  ServeOptions,
  ServerStats,
  ServeTcpOptions,
  ServeUnixOptions,
  Transport,
  TrustProxyOptions,
} from "./src/options.ts";
export { parseProxyHeader } from "./src/proxy.ts";
export type { ProxyHeader, ProxyParseResult } from "./src/proxy.ts";
export { serveWorkers } from "./src/workers.ts";
export type { ServeWorkersOptions, WorkerPool } from "./src/workers.ts";
