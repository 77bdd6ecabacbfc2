/**
 * app.js — the interactive half of the sockserve home page. A plain ES module: no library, no
 * build step, nothing fetched from elsewhere.
 *
 * The page talks to the demo's API (`deno task demo`). Under plain `deno task serve` there is
 * no API — /api/* answers 404 (or 405 for a POST) — and every widget then says how to start
 * the demo instead of showing an error.
 *
 *   GET  /api/hello    200 text/plain: "Hello there!"
 *   POST /api/upper    body: UTF-8 text. 200 text/plain: the same text, upper-cased.
 *   GET  /api/events   200 text/event-stream: live server statistics, described below.
 *
 * /api/events — Server-Sent Events (https://html.spec.whatwg.org/#server-sent-events).
 * The server sends one event as soon as the stream opens and then one per second. Each event
 * is a single `data:` line holding one JSON object, followed by a blank line; there is no
 * `event:` field (so EventSource clients see plain "message" events). Comment lines (": ...")
 * may be sent as keep-alives and are ignored. The server ends the stream when it shuts down.
 *
 *   data: {"time":1732246000000,"connections":{"tcp":1,"unix":0,"udp":0},"requestsPerSecond":3,"bytesIn":123,"bytesOut":456}
 *
 *   time               number  milliseconds since the Unix epoch when the sample was taken
 *   connections.tcp    number  TCP (and TLS) connections open right now, this stream included
 *   connections.unix   number  Unix-socket connections open right now
 *   connections.udp    number  distinct UDP peers heard from in the last second (UDP has no
 *                              connections; this is the nearest thing to "who is talking")
 *   requestsPerSecond  number  requests answered in the last second, all transports together
 *   bytesIn            number  bytes read from clients since the server started, all transports
 *   bytesOut           number  bytes written to clients since the server started
 *
 * Unknown fields are ignored and a missing number counts as 0, so the shape can grow.
 *
 * Why fetch() and not EventSource: EventSource cannot tell "no such API" (404) from "network
 * down", and it reconnects forever. Reading the stream by hand also shows the lecture's point
 * once more: the chunks a stream delivers do not line up with its messages, so we buffer until
 * a blank line ends an event.
 */

/** Status codes that mean "this server has no API": the static server's answers to /api/*. */
const API_MISSING = new Set([404, 405, 501]);
/** How many one-second samples the chart keeps. */
const CHART_SAMPLES = 60;

const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id} in index.html`);
  return el;
};

/** Replace an element's content with the "start the demo" hint (built from nodes, no HTML). */
function showMissing(el) {
  const code = document.createElement("code");
  code.textContent = "deno task demo";
  el.replaceChildren("The API is not running here. Start the demo with ", code, ".");
  el.classList.add("missing");
  el.classList.remove("error", "live-ok");
  $("api-missing").hidden = false;
}

/**
 * One API call. Resolves to { kind: "ok", status, statusText, text, ms },
 * { kind: "missing" } when the server has no API, or { kind: "error", message }.
 */
async function callApi(path, init = {}) {
  if (location.protocol === "file:") return { kind: "missing" };
  const started = performance.now();
  try {
    const response = await fetch(path, {
      ...init,
      cache: "no-store",
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (API_MISSING.has(response.status)) return { kind: "missing" };
    return {
      kind: "ok",
      status: response.status,
      statusText: response.statusText,
      text,
      ms: Math.round(performance.now() - started),
    };
  } catch (error) {
    const message = error instanceof DOMException && error.name === "TimeoutError"
      ? "no answer within 10 s"
      : "could not reach the server (is it still running?)";
    return { kind: "error", message };
  }
}

/** Show a call's result in an <output>: a muted status line, then the body as text. */
function showResult(output, result) {
  output.classList.remove("missing", "error");
  if (result.kind === "missing") return showMissing(output);
  if (result.kind === "error") {
    output.classList.add("error");
    output.textContent = `Error: ${result.message}`;
    return;
  }
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = `${result.status} ${result.statusText} · ${result.ms} ms`;
  output.replaceChildren(meta, result.text);
  if (result.status >= 400) output.classList.add("error");
}

async function withBusy(button, work) {
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}

function setupHello() {
  const button = $("hello-button");
  const output = $("hello-output");
  output.textContent = "Press the button.";
  button.addEventListener("click", () =>
    withBusy(button, async () => {
      output.textContent = "Sending…";
      showResult(output, await callApi("/api/hello"));
    }));
}

function setupUpper() {
  const form = $("upper-form");
  const input = $("upper-input");
  const output = $("upper-output");
  const button = form.querySelector("button");
  output.textContent = "Type some text and send it.";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    withBusy(button, async () => {
      output.textContent = "Sending…";
      const result = await callApi("/api/upper", {
        method: "POST",
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: input.value,
      });
      showResult(output, result);
    });
  });
  // Ctrl+Enter (or Cmd+Enter) sends from inside the text box; Enter alone adds a line.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events, read by hand

/**
 * Yields { event, data } for each event of an SSE byte stream. Lines may end in "\r\n", "\n"
 * or "\r"; an event ends at an empty line; "data:" lines are joined with "\n". `onRetry` gets
 * the server's `retry:` hint in milliseconds.
 */
async function* readEvents(body, onRetry) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  let type = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value; // a chunk may hold half an event, or several
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        if (end === -1) break;
        // A "\r" at the very end may be the first half of "\r\n": wait for the next chunk.
        if (buffer[end] === "\r" && end === buffer.length - 1) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield { event: type || "message", data: data.join("\n") };
          data = [];
          type = "";
          continue;
        }
        if (line.startsWith(":")) continue; // a comment: keep-alive
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "data") data.push(value);
        else if (field === "event") type = value;
        else if (field === "retry" && /^\d+$/.test(value)) onRetry(Number(value));
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// The live panel

const samples = []; // requestsPerSecond of the last CHART_SAMPLES events, oldest first
let controller = null; // aborts the current /api/events request
let retryMs = 3000;
let retryTimer = 0;

function setStatus(text, kind = "") {
  const status = $("live-status");
  status.className = `status ${kind}`.trim();
  status.textContent = text;
}

const num = (value) => (Number.isFinite(value) && value >= 0 ? value : 0);

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = -1;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function showStats(stats) {
  const connections = stats.connections ?? {};
  $("stat-tcp").textContent = String(num(connections.tcp));
  $("stat-unix").textContent = String(num(connections.unix));
  $("stat-udp").textContent = String(num(connections.udp));
  $("stat-rps").textContent = String(num(stats.requestsPerSecond));
  for (const [id, value] of [["stat-in", num(stats.bytesIn)], ["stat-out", num(stats.bytesOut)]]) {
    const dd = $(id);
    dd.textContent = formatBytes(value);
    dd.title = `${value.toLocaleString()} bytes`;
  }
  samples.push(num(stats.requestsPerSecond));
  if (samples.length > CHART_SAMPLES) samples.shift();
  drawChart();
}

/** A round upper bound for the y axis: 4, 5, 10, 20, 50, 100, ... */
function niceMax(value) {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** Draw the samples into the SVG: newest on the right, one step per second. */
function drawChart() {
  const width = 300;
  const height = 120;
  const top = 6;
  const max = niceMax(Math.max(...samples, 0));
  const x = (i) => (width * (i + CHART_SAMPLES - samples.length)) / (CHART_SAMPLES - 1);
  const y = (v) => height - (height - top) * (v / max);

  const grid = $("chart-grid");
  grid.replaceChildren();
  for (const fraction of [0.25, 0.5, 0.75, 1]) {
    const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
    const gy = y(max * fraction).toFixed(1);
    line.setAttribute("x1", "0");
    line.setAttribute("x2", String(width));
    line.setAttribute("y1", gy);
    line.setAttribute("y2", gy);
    grid.append(line);
  }

  const points = samples.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  $("chart-line").setAttribute("points", points.join(" "));
  $("chart-area").setAttribute(
    "d",
    points.length > 1
      ? `M${x(0).toFixed(1)},${height} L${points.join(" L")} L${width},${height} Z`
      : "",
  );
  $("chart-scale").textContent = `(grid lines every ${max / 4}, top ${max})`;
  const latest = samples.at(-1) ?? 0;
  $("chart-summary").textContent = `Latest: ${latest} requests per second; peak ${
    Math.max(...samples, 0)
  } over the last ${samples.length} seconds.`;
}

function scheduleRetry(reason) {
  const seconds = Math.round(retryMs / 1000);
  setStatus(`${reason}. Reconnecting in ${seconds} s…`, "error");
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connectEvents, retryMs);
  retryMs = Math.min(retryMs * 2, 30_000); // back off while the server stays away
}

async function connectEvents() {
  clearTimeout(retryTimer);
  $("live-retry").hidden = true;
  if (location.protocol === "file:") {
    showMissing($("live-status"));
    return;
  }
  controller?.abort();
  controller = new AbortController();
  const { signal } = controller;
  setStatus("Connecting…");
  let response;
  try {
    response = await fetch("/api/events", {
      headers: { accept: "text/event-stream" },
      cache: "no-store",
      signal,
    });
  } catch {
    if (!signal.aborted) scheduleRetry("Cannot reach the server");
    return;
  }
  if (API_MISSING.has(response.status)) {
    await response.body?.cancel();
    showMissing($("live-status"));
    $("live-retry").hidden = false;
    return;
  }
  const type = response.headers.get("content-type") ?? "";
  if (!response.ok || !type.startsWith("text/event-stream") || !response.body) {
    await response.body?.cancel();
    scheduleRetry(`Unexpected answer ${response.status} ${response.statusText}`);
    return;
  }

  setStatus("Live", "live-ok");
  try {
    for await (const event of readEvents(response.body, (ms) => (retryMs = ms))) {
      if (event.event !== "message") continue;
      let stats;
      try {
        stats = JSON.parse(event.data);
      } catch {
        continue; // not JSON: skip this event, keep the stream
      }
      showStats(stats);
      retryMs = 3000;
    }
    if (!signal.aborted) scheduleRetry("The server ended the stream");
  } catch {
    if (!signal.aborted) scheduleRetry("The stream broke off");
  }
}

function setupLive() {
  drawChart();
  $("live-retry").addEventListener("click", connectEvents);
  // Close the stream when the page goes away, so the server's connection count drops at once.
  addEventListener("pagehide", () => controller?.abort());
  addEventListener("pageshow", (event) => {
    if (event.persisted) connectEvents(); // restored from the back/forward cache
  });
  connectEvents();
}

// ---------------------------------------------------------------------------------------------
// The WebSocket chat: /api/ws relays each text message to every open socket.

/** Lines the chat log keeps; older ones scroll away. */
const CHAT_LINES = 50;

function chatLine(text) {
  const log = $("chat-log");
  const item = document.createElement("li");
  item.textContent = text;
  log.append(item);
  while (log.children.length > CHAT_LINES) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

function setupChat() {
  const form = $("chat-form");
  const input = $("chat-input");
  const button = form.querySelector("button");
  const status = $("chat-status");
  const url = new URL("/api/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  let socket = null;
  const connect = () => {
    status.textContent = "Connecting…";
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      status.textContent = "Connected";
      status.className = "status";
      button.disabled = false;
    });
    socket.addEventListener("message", (event) => chatLine(event.data));
    socket.addEventListener("close", (event) => {
      button.disabled = true;
      status.textContent = event.code === 1001
        ? "The server went away (1001)"
        : `Disconnected (${event.code})`;
      status.className = "status missing";
    });
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (socket?.readyState !== WebSocket.OPEN || input.value === "") return;
    socket.send(input.value);
    input.value = "";
  });
  addEventListener("pagehide", () => socket?.close(1000));
  addEventListener("pageshow", (event) => {
    if (event.persisted) connect();
  });
  connect();
}

setupHello();
setupUpper();
setupLive();
setupChat();
