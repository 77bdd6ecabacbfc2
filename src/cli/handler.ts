/**
 * The handler `deno task serve` runs: the file server, inside the development server when any of
 * its features is on (cli/dev_handler.ts), wrapped in the access log. A module of its own because
 * `--workers` workers import it (its default export is the factory they call with the command
 * line's settings) and build the very same handler in their own isolates.
 */
import { fileServer, type FileServerOptions } from "../static/mod.ts";
import { FORMATTERS, type LogFormat, stdoutLines, withAccessLog } from "./access_log.ts";
import type { ServeHandler } from "../options.ts";
import { type DevOptions, devServer, usesDevFeatures } from "./dev_handler.ts";
import { SCRIPT_TAG } from "./live_reload.ts";

/** The part of the command line that shapes the handler (structured-cloneable). */
export interface HandlerConfig {
  root: string;
  files: FileServerOptions;
  log: LogFormat;
  /** The development server's features; none when absent. */
  dev?: DevOptions;
}

/** The handler and what must be closed before the server shuts down. */
export interface CliServer {
  handler: ServeHandler;
  close(): Promise<void>;
}

/** Builds the handler; throws if the root cannot be served (fileServer checks it). */
export function cliServer(config: HandlerConfig): CliServer {
  const dev = config.dev;
  const watch = dev?.watch ?? false;
  // Under --watch pages get the live-reload script, and every answer is revalidated, so that a
  // reload never shows a stylesheet or script from the browser's heuristic cache.
  const files = fileServer(config.root, {
    ...config.files,
    ...(watch
      ? { injectHtml: SCRIPT_TAG, cacheControl: config.files.cacheControl ?? "no-cache" }
      : {}),
  });
  const served = dev !== undefined && usesDevFeatures(dev)
    ? devServer(files, config.root, dev)
    : { handler: files as ServeHandler, close: () => Promise.resolve() };
  const handler = config.log === "off"
    ? served.handler
    : withAccessLog(served.handler, FORMATTERS[config.log], stdoutLines.write);
  return { handler, close: served.close };
}

/** The factory `--workers` workers call. */
export default function cliHandler(config: HandlerConfig): ServeHandler {
  return cliServer(config).handler;
}
