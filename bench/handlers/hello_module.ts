/**
 * The hello handler as a module whose default export is `{ fetch }`: the shape `deno serve`
 * loads, and one of the two that sockserve's `serveWorkers` accepts. The all-cores scenario runs
 * both engines from this one file.
 */

import { handler } from "./hello.ts";

export default { fetch: handler };
