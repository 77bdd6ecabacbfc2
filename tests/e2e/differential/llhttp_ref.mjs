// The reference side of the differential test: Node's http server (llhttp underneath) fed raw
// bytes in process, with no socket and no `process.binding`. For each request of the corpus a
// Duplex stream stands in for the connection: the bytes are pushed into it, then end of stream.
// What the server parsed is reported as JSON.
//
// Input (stdin): one JSON array of base64 strings. Output (stdout): one JSON array of results,
//   { requests: [{ method, target, version, fields: [name, value, ...], body (latin1) }],
//     outcome: "ok" | "error" | "incomplete" | "connect" | "upgrade" | "hang", code?: string }
// Run: node tests/differential/llhttp_ref.mjs < corpus.json
import http from "node:http";
import { Duplex } from "node:stream";

const server = http.createServer({ requireHostHeader: true });
let current = null;

function record(req, res) {
  const entry = current;
  const request = {
    method: req.method,
    target: req.url,
    version: req.httpVersion,
    fields: req.rawHeaders.map((v, i) => (i % 2 === 0 ? v.toLowerCase() : v)),
    body: "",
    complete: false,
  };
  entry.requests.push(request);
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    request.body = Buffer.concat(chunks).toString("latin1");
    request.complete = true;
    res.end("ok");
  });
  req.on("error", () => {});
}

server.on("request", record);
server.on("checkContinue", (req, res) => {
  res.writeContinue();
  record(req, res);
});
server.on("checkExpectation", (_req, res) => {
  current.outcome = "error";
  current.code = "EXPECTATION";
  res.writeHead(417).end();
});
server.on("connect", (_req, socket) => {
  current.outcome = "connect";
  socket.destroy();
});
server.on("upgrade", (_req, socket) => {
  current.outcome = "upgrade";
  socket.destroy();
});
server.on("clientError", (err, socket) => {
  const entry = current;
  if (entry.outcome === "ok") {
    entry.outcome = err.code === "HPE_INVALID_EOF_STATE" ? "incomplete" : "error";
    entry.code = err.code;
  }
  // Later, so that a request parsed before the error can finish (its 'end' comes on a later tick).
  setTimeout(() => socket.destroy(), 5);
});

function runOne(bytes) {
  return new Promise((resolve) => {
    const entry = { requests: [], outcome: "ok" };
    current = entry;
    let finished = false;
    let written = "";
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      // A request whose body never ended was cut by a parse error or by the end of stream: it
      // does not count as parsed.
      if (entry.requests.some((r) => !r.complete)) {
        if (entry.outcome === "ok") entry.outcome = "incomplete";
        entry.requests = entry.requests.filter((r) => r.complete);
      }
      for (const r of entry.requests) delete r.complete;
      // Errors the server answers itself (400 for a missing Host) without a clientError.
      const status = /HTTP\/1\.[01] ([45]\d\d)/.exec(written);
      if (entry.outcome === "ok" && status) {
        entry.outcome = "error";
        entry.code = `STATUS_${status[1]}`;
      }
      // Bytes after a request that closes the connection are not parsed: no error.
      if (entry.code === "HPE_CLOSED_CONNECTION") {
        entry.outcome = "ok";
        delete entry.code;
      }
      resolve(entry);
    };
    const socket = new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        written += Buffer.from(chunk).toString("latin1");
        callback();
      },
      final(callback) {
        callback();
        setImmediate(done);
      },
      destroy(_err, callback) {
        callback();
        setImmediate(done);
      },
    });
    // Enough for the server's bookkeeping of a connection.
    socket.remoteAddress = "127.0.0.1";
    socket.remotePort = 1;
    socket.setTimeout = () => socket;
    socket.setNoDelay = () => socket;
    socket.setKeepAlive = () => socket;
    const timer = setTimeout(() => {
      if (entry.outcome === "ok") entry.outcome = "hang";
      done();
    }, 2000);
    server.emit("connection", socket);
    socket.push(bytes);
    // End of stream only once the server had a turn to answer what was complete.
    setImmediate(() => socket.push(null));
  });
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const corpus = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const results = [];
for (const b64 of corpus) results.push(await runOne(Buffer.from(b64, "base64")));
process.stdout.write(JSON.stringify(results));
process.exit(0);
