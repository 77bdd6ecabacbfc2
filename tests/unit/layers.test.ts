import assert from "node:assert/strict";
import { compose, type Layer } from "../../src/handler/layers.ts";
import { directOf, withDirect } from "../../src/handler/direct.ts";
import type { ServeHandler, ServeHandlerInfo } from "../../src/options.ts";

const info: ServeHandlerInfo = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  transport: "tcp",
  completed: Promise.resolve(),
};
const view = { method: "GET", pathname: "/", search: "", headers: { get: () => null } };

/** A layer that records its name on the way in, on both entry points. */
function tracing(name: string, trace: string[], direct = true): Layer {
  return {
    handler: (next) => (request, info) => (trace.push(name), next(request, info)),
    direct: direct
      ? (next) => (view, info) => (trace.push(`${name}*`), next(view, info))
      : undefined,
  };
}

Deno.test("compose: a request meets the layers in list order, then the handler", async () => {
  const trace: string[] = [];
  const handler: ServeHandler = () => (trace.push("handler"), new Response("ok"));
  const composed = compose(handler, [tracing("a", trace), tracing("b", trace)]);
  const response = await composed(new Request("http://x/"), info);
  assert.equal(await response.text(), "ok");
  assert.deepEqual(trace, ["a", "b", "handler"]);
});

Deno.test("compose: the direct path goes through every layer's direct wrapper in the same order", async () => {
  const trace: string[] = [];
  const handler = withDirect(() => new Response("slow"), () => (trace.push("direct"), null));
  const composed = compose(handler, [tracing("a", trace), tracing("b", trace)]);
  const direct = directOf(composed);
  assert.notEqual(direct, null);
  assert.equal(await direct!(view, info), null);
  assert.deepEqual(trace, ["a*", "b*", "direct"]);
});

Deno.test("compose: a layer without a direct wrapper closes the direct path", () => {
  const handler = withDirect(() => new Response("slow"), () => null);
  assert.equal(directOf(compose(handler, [tracing("a", [], false)])), null);
  assert.equal(directOf(compose(() => new Response(""), [tracing("a", [])])), null);
});
