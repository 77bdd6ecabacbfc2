/**
 * Upgrade pass-through: after the backend's `101 Switching Protocols` (a WebSocket, say), the
 * client's connection and the backend's are joined byte for byte, each direction as fast as the
 * other side takes it. When either side closes or fails, both are closed: HTTP/1.1 upgrades are
 * not half-closed by any protocol the proxy knows of.
 */
import type { ByteChannel } from "../../conn/upgrade.ts";
import { writeAll } from "../../io/writer.ts";
import type { BackendConnection } from "./client.ts";

/** Joins `client` (the engine's channel after the 101) and `backend`; settles once both closed. */
export async function tunnel(client: ByteChannel, backend: BackendConnection): Promise<void> {
  const close = () => {
    client.close();
    backend.close();
  };
  client.onShutdown = close;
  const toBackend = async () => {
    for (;;) {
      const bytes = await client.read();
      if (bytes === null) break;
      await writeAll(backend.conn, bytes);
    }
  };
  const toClient = async () => {
    const reader = backend.reader;
    // What the backend sent right after its 101 head was read with it: it goes first.
    if (reader.buffered > 0) {
      const early = reader.peek().slice();
      reader.consume(early.length);
      await client.write(early);
    }
    for (;;) {
      const bytes = await reader.readSome(64 * 1024);
      if (bytes === null) break;
      await client.write(bytes.slice());
    }
  };
  await Promise.allSettled([toBackend().finally(close), toClient().finally(close)]);
}
