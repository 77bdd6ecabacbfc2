/**
 * The demo's small API, the one www/app.js talks to:
 *
 *   GET  /api/hello    "Hello there!"
 *   POST /api/upper    the request body, upper-cased
 *   GET  /api/events   Server-Sent Events: one LiveStats sample now, then one a second
 *   GET  /api/ws       a WebSocket chat (chat.ts): each message goes to every open socket
 *
 * Any other /api/ path is 404 and a known path with another method is 405, which the page reads
 * as "no API here" — the answers it also gets from a plain static server. Over UDP, where one
 * datagram is one whole response, /api/events answers with a single event.
 */
import type { ServeHandlerInfo } from "../src/options.ts";
import type { ChatRoom } from "./chat.ts";
import { type EventStreams, formatEvent } from "./events.ts";
import type { StatsSampler } from "./stats.ts";

/** Largest body /api/upper takes; more is 413 (a text box's worth is plenty). */
export const MAX_UPPER_BYTES = 64 * 1024;

export interface Api {
  events: EventStreams;
  sampler: StatsSampler;
  chat: ChatRoom;
}

function text(body: string, status = 200, headers: HeadersInit = {}): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

type Route = (request: Request, api: Api, info: ServeHandlerInfo) => Response | Promise<Response>;

const ROUTES: Record<string, Record<string, Route>> = {
  "/api/hello": {
    GET: () => text("Hello there!"),
  },
  "/api/upper": {
    POST: async (request) => {
      const declared = Number(request.headers.get("content-length") ?? 0);
      if (declared > MAX_UPPER_BYTES) return text("Too much text\n", 413);
      const bytes = new Uint8Array(await request.arrayBuffer());
      if (bytes.length > MAX_UPPER_BYTES) return text("Too much text\n", 413);
      return text(new TextDecoder().decode(bytes).toUpperCase());
    },
  },
  "/api/events": {
    GET: (_request, { events, sampler }, info) => {
      const sample = JSON.stringify(sampler.sample());
      // A datagram carries one whole response: over UDP the stream is one event long.
      if (info.transport === "udp" || info.transport === "unixpacket") {
        return new Response(formatEvent(sample), {
          headers: { "content-type": "text/event-stream; charset=utf-8" },
        });
      }
      return events.open(sample);
    },
  },
  "/api/ws": {
    GET: (request, { chat }, info) => {
      // A WebSocket lives on a connection: over a datagram there is none to switch.
      const stream = info.transport !== "udp" && info.transport !== "unixpacket";
      if (stream && request.headers.get("upgrade")?.toLowerCase() === "websocket") {
        return chat.join(request);
      }
      return text("A WebSocket endpoint: connect with new WebSocket()\n", 426, {
        upgrade: "websocket",
        connection: "upgrade",
      });
    },
  },
};

/** Answers /api/* requests; null for any other path (the caller serves files). */
export function apiResponse(
  request: Request,
  info: ServeHandlerInfo,
  api: Api,
): Promise<Response> | Response | null {
  const { pathname } = new URL(request.url);
  if (pathname !== "/api" && !pathname.startsWith("/api/")) return null;
  const methods = ROUTES[pathname];
  if (!methods) return text("No such API\n", 404);
  const route = methods[request.method] ?? (request.method === "HEAD" ? methods.GET : undefined);
  if (!route) {
    return text("Method Not Allowed\n", 405, { allow: Object.keys(methods).join(", ") });
  }
  return route(request, api, info);
}
