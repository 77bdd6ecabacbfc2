/**
 * Server-Sent Events for the demo: a set of open `text/event-stream` response bodies, fed by
 * one broadcast per sample and ended together at shutdown.
 *
 * Wire format (the one www/app.js documents): each event is one `data:` line with a JSON object
 * and a blank line; no `event:` field. A stream ends when the server ends it (shutdown), or when
 * its client leaves: the server's next write fails and it cancels the body, which removes it here.
 */

const encoder = new TextEncoder();

/**
 * Events a client may fall behind by (a stalled reader, a full socket buffer) before its stream
 * is dropped: one a second, so a minute's worth. Without it, a client that stops reading would
 * make the queue grow for as long as the server runs.
 */
const MAX_QUEUED_EVENTS = 60;

/** One event: `data: <text>` and the blank line that ends it. `data` must be a single line. */
export function formatEvent(data: string): Uint8Array<ArrayBuffer> {
  if (/[\r\n]/.test(data)) throw new TypeError("an event's data must be one line");
  return encoder.encode(`data: ${data}\n\n`);
}

export class EventStreams {
  #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #closed = false;

  /** Streams open now. */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * A response whose body is a new event stream; `first` is its first event, sent at once.
   * After `closeAll()` the stream is born ended, so a late request cannot hold up shutdown.
   */
  open(first: string): Response {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        c.enqueue(formatEvent(first));
        if (this.#closed) c.close();
        else this.#streams.add(c);
      },
      cancel: () => {
        this.#streams.delete(controller);
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  }

  /** Sends `data` as one event to every open stream. */
  broadcast(data: string): void {
    const bytes = formatEvent(data);
    for (const controller of this.#streams) {
      if ((controller.desiredSize ?? 0) < -MAX_QUEUED_EVENTS) {
        this.#end(controller);
        continue;
      }
      try {
        controller.enqueue(bytes);
      } catch {
        this.#streams.delete(controller); // cancelled meanwhile
      }
    }
  }

  /** Ends every stream (each response completes, so the server can finish its connection). */
  closeAll(): void {
    this.#closed = true;
    for (const controller of this.#streams) this.#end(controller);
  }

  #end(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#streams.delete(controller);
    try {
      controller.close();
    } catch {
      // already cancelled by the server
    }
  }
}
