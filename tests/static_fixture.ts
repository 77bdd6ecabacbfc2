/**
 * Test sites for the file server: a temporary directory holding a root with the given files,
 * anything placed next to it ("../name"), symlinks, and a server answering with `fileServer`.
 */
import { dirname, join } from "node:path";
import { fileServer, type FileServerOptions } from "../mod.ts";
import { exchange, type ParsedResponse, parseResponses, startServer } from "./helpers.ts";

export interface SiteSpec {
  /** Paths relative to the root ("a/b.txt"); "../x" lands next to the root. */
  files?: Record<string, string | Uint8Array>;
  /** Symlinks: path relative to the root → link target (as written into the link). */
  links?: Record<string, string>;
  options?: FileServerOptions;
}

export interface Site extends AsyncDisposable {
  /** The temporary directory; the root is `${dir}/root`. */
  dir: string;
  root: string;
  port: number;
  origin: string;
  /** Sends `method target` exactly as written (no normalisation) and parses the one response. */
  request(
    target: string,
    headers?: Record<string, string>,
    method?: string,
  ): Promise<ParsedResponse & { raw: string }>;
}

export async function site(spec: SiteSpec = {}): Promise<Site> {
  const dir = await Deno.makeTempDir({ prefix: "sockserve-static-" });
  const root = join(dir, "root");
  await Deno.mkdir(root);
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    const full = join(root, path);
    await Deno.mkdir(dirname(full), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(full, content);
    else await Deno.writeFile(full, content);
  }
  for (const [path, target] of Object.entries(spec.links ?? {})) {
    await Deno.mkdir(dirname(join(root, path)), { recursive: true });
    await Deno.symlink(target, join(root, path));
  }
  const server = startServer(fileServer(root, spec.options));
  return {
    dir,
    root,
    port: server.port,
    origin: server.origin,
    async request(target, headers = {}, method = "GET") {
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join(
        "",
      );
      const raw = await exchange(
        server.port,
        `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n${lines}Connection: close\r\n\r\n`,
      );
      const [response] = parseResponses(raw, [method === "HEAD"]);
      return { ...response, raw };
    },
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Text of a given length, compressible, with a recognisable start. */
export function text(length: number, seed = "sockserve"): string {
  let out = "";
  for (let i = 0; out.length < length; i++) out += `${seed} line ${i}\n`;
  return out.slice(0, length);
}
