// The node:http translation of bench/handlers/hello.ts, run by the real `node` binary: GET
// answers "Hello, World!", POST echoes its body, read whole and sent with a Content-Length (the
// same strategy as the Deno handler, so the comparison is of servers). Prints `READY <port>`.
import { createServer } from "node:http";

const HELLO = Buffer.from("Hello, World!");

const server = createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(200, {
      "content-type": "text/plain;charset=UTF-8",
      "content-length": HELLO.length,
    });
    res.end(HELLO);
    return;
  }
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": body.length,
    });
    res.end(body);
  });
});

server.listen(0, "127.0.0.1", () => console.log(`READY ${server.address().port}`));
