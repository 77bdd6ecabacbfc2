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
export { serveDatagram } from "./src/datagram/server.ts";
export { DEFAULT_MAX_DATAGRAM_BYTES } from "./src/datagram/options.ts";
export { DEFAULT_RATE_LIMIT } from "./src/datagram/rate_limit.ts";
export type { RateLimit } from "./src/datagram/rate_limit.ts";
export type {
  DatagramHandler,
  DatagramHandlerInfo,
  DatagramLimits,
  DatagramServeOptions,
  DatagramServer,
  DatagramTransport,
  UdpServeOptions,
  UnixPacketServeOptions,
} from "./src/datagram/options.ts";
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
export { parseProxyHeader } from "./src/balancer/proxy_protocol.ts";
export type { ProxyHeader, ProxyParseResult } from "./src/balancer/proxy_protocol.ts";
export { serveWorkers } from "./src/workers/pool.ts";
export type { ServeWorkersOptions, WorkerPool } from "./src/workers/pool.ts";
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_COMPRESS_THRESHOLD,
  DEFAULT_IDLE_TIMEOUT,
  DEFAULT_MAX_MESSAGE_BYTES,
  upgradeWebSocket,
} from "./src/ws/upgrade_websocket.ts";
export type { UpgradeWebSocketOptions, WebSocketUpgrade } from "./src/ws/upgrade_websocket.ts";
export type { ServerWebSocket } from "./src/ws/socket.ts";
