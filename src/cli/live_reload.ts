/**
 * `--watch`: live reload. The root is watched (Deno.watchFs, recursively); changes are gathered
 * for `DEBOUNCE_MS` after the last one (an editor's save is several events: a temporary file, a
 * rename, a modify) and then sent to every open page as one Server-Sent Event naming the changed
 * paths. The pages' script (live_reload_client.ts) swaps stylesheets or reloads.
 *
 * Both live under `RESERVED_PREFIX`, which the dev server answers before the file server, so no
 * file can shadow them (and a hidden name, which the file server does not serve by default).
 */
import { repeatEvery, runAfter } from "../deno/timer.ts";
import { LIVE_RELOAD_SCRIPT } from "./live_reload_client.ts";

/** Paths the dev server answers itself, before any file. */
export const RESERVED_PREFIX = "/.sockserve/";
/** The event stream. */
export const EVENTS_PATH = "/.sockserve/livereload";
/** The client script. */
export const SCRIPT_PATH = "/.sockserve/livereload.js";
/** What HTML pages get before `</body>` under `--watch`. */
export const SCRIPT_TAG = `<script src="${SCRIPT_PATH}"></script>`;

/** Quiet time after the last change before the pages are told (milliseconds). */
export const DEBOUNCE_MS = 100;
/**
 * A comment sent on every open stream this often (milliseconds): a page that went away without
 * closing its connection is found by the failed write, and intermediaries see traffic.
 */
export const HEARTBEAT_MS = 30_000;
/** How soon a page reconnects after the stream ends (the server restarted), in milliseconds. */
const RETRY_MS = 1_000;

const encoder = new TextEncoder();
/** The first bytes of every stream: the reconnection delay, and a comment the page ignores. */
const GREETING = encoder.encode(`retry: ${RETRY_MS}\n: sockserve live reload\n\n`);
const HEARTBEAT = encoder.encode(": heartbeat\n\n");

export class LiveReload {
  #root: string;
  #debounceMs: number;
  #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #watcher: Deno.FsWatcher;
  #watching: Promise<void>;
  #pending = new Set<string>();
  #cancelDebounce: (() => void) | null = null;
  #cancelHeartbeat: (() => void) | null = null;
  #closed = false;

  /** Starts watching `root` (a directory). Throws what Deno.watchFs throws. */
  constructor(root: string, debounceMs = DEBOUNCE_MS) {
    this.#root = Deno.realPathSync(root);
    this.#debounceMs = debounceMs;
    this.#watcher = Deno.watchFs(this.#root, { recursive: true });
    this.#watching = this.#watch();
  }

  /** Pages connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  async #watch(): Promise<void> {
    try {
      for await (const event of this.#watcher) {
        if (event.kind === "access") continue;
        for (const path of event.paths) {
          const url = this.#urlPath(path);
          if (url !== null) this.#pending.add(url);
        }
        if (this.#pending.size === 0) continue;
        this.#cancelDebounce?.();
        this.#cancelDebounce = runAfter(this.#debounceMs, () => this.#flush());
      }
    } catch (error) {
      if (!this.#closed) console.error("sockserve: watching for changes failed:", error);
    }
  }

  /** A changed file's URL path ("/css/site.css"), or null for hidden names and outside paths. */
  #urlPath(path: string): string | null {
    const root = this.#root;
    if (!path.startsWith(root)) return null;
    const segments = path.slice(root.length).split(/[\\/]/).filter((s) => s !== "");
    if (segments.length === 0 || segments.some((s) => s.startsWith("."))) return null;
    return "/" + segments.join("/");
  }

  #flush(): void {
    this.#cancelDebounce = null;
    const paths = [...this.#pending].sort();
    this.#pending.clear();
    this.notify(paths);
  }

  /** Tells every page that `paths` changed. */
  notify(paths: readonly string[]): void {
    const event = encoder.encode(`event: change\ndata: ${JSON.stringify({ paths })}\n\n`);
    this.#send(event);
  }

  #send(bytes: Uint8Array): void {
    for (const client of this.#clients) {
      try {
        client.enqueue(bytes);
      } catch {
        this.#clients.delete(client); // its stream was closed
      }
    }
  }

  /** Answers a request under `RESERVED_PREFIX`. */
  answer(request: Request): Response {
    const { pathname } = new URL(request.url);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("405 Method Not Allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" },
      });
    }
    if (pathname === SCRIPT_PATH) {
      return new Response(request.method === "HEAD" ? null : LIVE_RELOAD_SCRIPT, {
        headers: {
          "content-type": "text/javascript; charset=utf-8",
          "content-length": String(encoder.encode(LIVE_RELOAD_SCRIPT).length),
          "cache-control": "no-cache",
        },
      });
    }
    if (pathname === EVENTS_PATH) {
      const headers = { "content-type": "text/event-stream", "cache-control": "no-store" };
      if (request.method === "HEAD" || this.#closed) return new Response(null, { headers });
      return new Response(this.#stream(request.signal), { headers });
    }
    return new Response("404 Not Found\n", {
      status: 404,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }

  #stream(signal: AbortSignal): ReadableStream<Uint8Array> {
    let self: ReadableStreamDefaultController<Uint8Array>;
    const leave = () => {
      this.#clients.delete(self);
      if (this.#clients.size === 0) {
        this.#cancelHeartbeat?.();
        this.#cancelHeartbeat = null;
      }
    };
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        controller.enqueue(GREETING);
        this.#clients.add(controller);
        this.#cancelHeartbeat ??= repeatEvery(HEARTBEAT_MS, () => this.#send(HEARTBEAT));
        signal.addEventListener("abort", () => {
          leave();
          try {
            controller.close();
          } catch {
            // closed already
          }
        }, { once: true });
      },
      cancel: leave,
    });
  }

  /** Stops watching and ends every page's stream (they reconnect to the next server). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelDebounce?.();
    this.#cancelHeartbeat?.();
    this.#cancelHeartbeat = null;
    for (const client of this.#clients) {
      try {
        client.close();
      } catch {
        // closed already
      }
    }
    this.#clients.clear();
    try {
      this.#watcher.close();
    } catch {
      // closed already
    }
    await this.#watching;
  }
}
