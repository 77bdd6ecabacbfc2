/**
 * The handler `deno task serve` runs: the file server wrapped in the access log. A module of its
 * own because `--workers` workers import it (its default export is the factory they call with
 * the command line's settings) and build the very same handler in their own isolates.
 */
import { fileServer, type FileServerOptions } from "../static/mod.ts";
import { FORMATTERS, type LogFormat, stdoutLines, withAccessLog } from "./access_log.ts";
import type { ServeHandler } from "../options.ts";

/** The part of the command line that shapes the handler (structured-cloneable). */
export interface HandlerConfig {
  root: string;
  files: FileServerOptions;
  log: LogFormat;
}

/** Builds the handler; throws if the root cannot be served (fileServer checks it). */
export default function cliHandler(config: HandlerConfig): ServeHandler {
  const files = fileServer(config.root, config.files);
  return config.log === "off"
    ? files
    : withAccessLog(files, FORMATTERS[config.log], stdoutLines.write);
}
