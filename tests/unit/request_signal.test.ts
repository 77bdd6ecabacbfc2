/** Aborting a Request's signal from outside, before and after a handler reads it. */
import assert from "node:assert/strict";
import { abortRequest, adoptSignal, requestSignal } from "../../src/deno/request_signal.ts";

/** A request as the engine makes it (with the controller it may need). */
function made(): Request {
  const controller = requestSignal();
  const request = new Request("http://t/", { signal: controller?.signal });
  adoptSignal(request, controller);
  return request;
}

Deno.test("abortRequest: a signal read before fires its abort event, with Deno.serve's reason", () => {
  const request = made();
  const signal = request.signal;
  let events = 0;
  signal.addEventListener("abort", () => events++);
  abortRequest(request);
  assert.equal(signal.aborted, true);
  assert.equal(events, 1);
  assert.equal(signal.reason.name, "AbortError");
  assert.equal(signal.reason.message, "The request has been cancelled.");
  abortRequest(request);
  assert.equal(events, 1, "a second abort changes nothing");
});

Deno.test("abortRequest: a signal first read after the abort is aborted already", () => {
  const request = made();
  abortRequest(request);
  assert.equal(request.signal.aborted, true);
  assert.equal(request.signal.reason.name, "AbortError");
  assert.equal(request.signal, request.signal);
});

Deno.test("abortRequest: a request never aborted keeps a live signal", () => {
  const request = made();
  abortRequest(made());
  assert.equal(request.signal.aborted, false);
});
