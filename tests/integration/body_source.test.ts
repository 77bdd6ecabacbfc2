/** Bodies the engine sends from their source (body_source.ts): the bytes must be exactly right. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileServer } from "../../mod.ts";
import { knownBody, labelBody } from "../../src/handler/body_source.ts";
import {
  bodyUnused,
  type FastResponse,
  takeFastResponse,
  takeStaticBody,
} from "../../src/deno/response_slots.ts";
import { INTERNALS_ALLOWED } from "../../src/deno/gate.ts";
import { exchange, parseResponses, readToEnd, startServer, writeAll } from "../helpers.ts";

/** 700 KiB of a repeating pattern: not a multiple of the reader's 256 KiB chunk. */
function pattern(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
  return bytes;
}

Deno.test("known bodies: a large file, a range of it and a small file arrive byte-exact", async () => {
  const dir = await Deno.makeTempDir();
  const big = pattern(700 * 1024);
  await Deno.writeFile(join(dir, "big.bin"), big);
  await Deno.writeFile(join(dir, "small.bin"), big.subarray(0, 1000));
  await using s = startServer(fileServer(dir));
  try {
    for (let round = 0; round < 2; round++) { // the second time, buffers are reused
      const whole = await fetch(`${s.origin}/big.bin`);
      assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), big);
      const range = await fetch(`${s.origin}/big.bin`, {
        headers: { range: "bytes=300000-599999" },
      });
      assert.equal(range.status, 206);
      assert.deepEqual(new Uint8Array(await range.arrayBuffer()), big.subarray(300000, 600000));
      const small = await fetch(`${s.origin}/small.bin`);
      assert.deepEqual(new Uint8Array(await small.arrayBuffer()), big.subarray(0, 1000));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("known bodies: a file shorter than announced closes the connection", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "short.bin");
  await Deno.writeFile(path, pattern(300 * 1024));
  await using s = startServer(() => {
    const response = new Response("unused", { headers: { "content-length": String(400 * 1024) } });
    return labelBody(response, { kind: "file", path, first: 0, last: 400 * 1024 - 1 });
  });
  try {
    const response = await fetch(`${s.origin}/`);
    await assert.rejects(response.arrayBuffer());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("known bodies: a label no longer counts once the body was read", async () => {
  const bytes = new TextEncoder().encode("body");
  const response = labelBody(new Response(bytes), { kind: "bytes", bytes });
  assert.equal(knownBody(response)?.kind, "bytes");
  await response.text();
  assert.equal(knownBody(response), null);
});

const utf8 = new TextEncoder();

/**
 * Responses and the body `takeStaticBody` must give for each: null where only a stream can. In a
 * verified Deno whose internals no longer pass `checkInternals`, the rows with a body fail: the
 * engine is then still right (it reads every body through its stream) but has lost this fast
 * path. Where internals are off (SOCKSERVE_PORTABLE=1, another Deno version) it takes nothing.
 */
const STATIC_BODIES: [string, () => Response, string | number[] | null][] = [
  ["a lone string (Deno builds its record lazily)", () => new Response("héllo ✓"), "héllo ✓"],
  ["a string with an init", () => new Response("x", { status: 201, headers: { a: "b" } }), "x"],
  ["an empty string", () => new Response(""), ""],
  ["bytes", () => new Response(new Uint8Array([0, 1, 255])), [0, 1, 255]],
  ["an ArrayBuffer", () => new Response(new Uint8Array([7, 8]).buffer), [7, 8]],
  ["a DataView of part of a buffer", () => {
    return new Response(new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2));
  }, [2, 3]],
  ["URLSearchParams", () => new Response(new URLSearchParams({ q: "é" })), "q=%C3%A9"],
  ["Response.json", () => Response.json({ a: [1] }), '{"a":[1]}'],
  ["a ReadableStream", () => new Response(new ReadableStream()), null],
  ["a Blob", () => new Response(new Blob(["blob"])), null],
  ["FormData", () => {
    const form = new FormData();
    form.append("a", "1");
    return new Response(form);
  }, null],
  ["no body", () => new Response(null, { status: 204 }), null],
  ["a string whose stream was asked for", () => {
    const response = new Response("x");
    response.body;
    return response;
  }, null],
  ["a clone of a string's Response", () => new Response("twin").clone(), "twin"],
];

for (const [name, make, expected] of STATIC_BODIES) {
  Deno.test(`static bodies: ${name}`, () => {
    const response = make();
    const body = takeStaticBody(response);
    const got = body instanceof Uint8Array ? [...body] : body;
    const taken = INTERNALS_ALLOWED ? expected : null;
    assert.deepEqual(got, taken);
    // Taken means used, as reading the stream would leave it; and a body is taken only once.
    assert.equal(response.bodyUsed, taken !== null);
    assert.equal(takeStaticBody(response), null);
  });
}

Deno.test("static bodies: a body already read is not taken again", async () => {
  const response = new Response("read");
  assert.equal(await response.text(), "read");
  assert.equal(takeStaticBody(response), null);
});

/** Pipelined answers made from strings and bytes: each must arrive whole and its own. */
Deno.test("static bodies: a pipelined batch of string and byte bodies arrives byte-exact", async () => {
  const bodies: Record<string, string | Uint8Array<ArrayBuffer>> = {
    "/ascii": "plain text",
    "/utf8": "ünïcødé ✓ 𝄞 ".repeat(50),
    "/large": "L".repeat(40_000), // too large to encode in the shared buffer
    "/medium": "m".repeat(5_000),
    "/bytes": new Uint8Array(3000).map((_, i) => i & 0xff),
  };
  await using s = startServer((request) => {
    const body = bodies[new URL(request.url).pathname];
    return new Response(body, { headers: { "content-type": "application/octet-stream" } });
  });
  const paths = [...Object.keys(bodies), ...Object.keys(bodies).reverse()];
  const batch = paths.map((path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).join("") +
    "GET /ascii HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await writeAll(conn, utf8.encode(batch));
  // One character per byte, so that Content-Length counts what the parser slices.
  const latin1 = new TextDecoder("latin1");
  const responses = parseResponses(latin1.decode(await readToEnd(conn)));
  conn.close();
  assert.equal(responses.length, paths.length + 1);
  [...paths, "/ascii"].forEach((path, i) => {
    const body = bodies[path];
    assert.equal(responses[i].status, 200);
    assert.equal(
      responses[i].body,
      latin1.decode(typeof body === "string" ? utf8.encode(body) : body),
    );
  });
});

Deno.test("static bodies: the same Response returned twice is a 500 the second time, as under Deno.serve", async () => {
  const shared = new Response("once", { headers: { "content-type": "text/plain" } });
  await using s = startServer(() => shared, {
    onError: () => new Response("used", { status: 500 }),
  });
  const request = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const [first] = parseResponses(await exchange(s.port, request));
  assert.deepEqual([first.status, first.body], [200, "once"]);
  const [second] = parseResponses(await exchange(s.port, request));
  assert.deepEqual([second.status, second.body], [500, "used"]);
});

Deno.test("static bodies: a declared Content-Length is kept; a body longer is cut to it, a shorter one closes", async () => {
  await using s = startServer((request) => {
    const path = new URL(request.url).pathname;
    const declared = path === "/longer" ? "3" : path === "/shorter" ? "10" : null;
    return new Response(
      path === "/next" ? "next" : "hello",
      declared === null ? {} : { headers: { "content-length": declared } },
    );
  });
  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const [longer, next] = parseResponses(
    await exchange(
      s.port,
      get("/longer") + get("/next") +
        "GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ),
  );
  assert.deepEqual([longer.headers.get("content-length"), longer.body], ["3", "hel"]);
  assert.equal(next.body, "next", "the connection stays in step after the cut body");
  // Fewer bytes than promised: the client must not take what follows for the rest of the body.
  const text = await exchange(s.port, get("/shorter") + get("/next"));
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*content-length: 10\r\n\r\nhello$/);
});

/** A subclass that changes nothing: it may still not be taken whole (it could change getters). */
class PlainSubclass extends Response {}

/**
 * Responses and what `takeFastResponse` must give for each: their parts where Deno.serve would
 * answer them on its fast path, null where anything more must be read through the Response's
 * getters. In a Deno whose "serve fast" fields no longer pass `checkFastFields`, the rows with
 * parts fail: the engine is then still right (it reads every Response's headers) but slower.
 */
const FAST_RESPONSES: [string, () => Response, FastResponse | null][] = [
  ["a lone string", () => new Response("hi"), {
    contentType: "text/plain;charset=UTF-8",
    body: "hi",
  }],
  ["a string with its one Content-Type", () => {
    return new Response("hi", { headers: { "Content-Type": "text/plain" } });
  }, { contentType: "text/plain", body: "hi" }],
  ["bytes", () => new Response(new Uint8Array([1, 2])), {
    contentType: null,
    body: new Uint8Array([1, 2]),
  }],
  ["bytes with any Content-Type", () => {
    return new Response(new Uint8Array([3]), { headers: [["content-type", "image/png"]] });
  }, { contentType: "image/png", body: new Uint8Array([3]) }],
  ["Response.json", () => Response.json({ a: 1 }), {
    contentType: "application/json",
    body: '{"a":1}',
  }],
  ["another status", () => new Response("hi", { status: 201 }), null],
  ["a reason phrase", () => new Response("hi", { statusText: "Fine" }), null],
  ["a second field", () => new Response("hi", { headers: { "x-a": "1" } }), null],
  ["headers changed after", () => {
    const response = new Response("hi");
    response.headers.set("x-a", "1");
    return response;
  }, null],
  ["headers only read after", () => {
    const response = new Response("hi");
    response.headers.get("content-type");
    return response;
  }, null],
  ["a stream", () => new Response(ReadableStream.from([new Uint8Array([1])])), null],
  ["no body", () => new Response(null), null],
  ["a subclass", () => new PlainSubclass("hi"), null],
];

for (const [name, make, expected] of FAST_RESPONSES) {
  Deno.test(`fast responses: ${name}`, () => {
    const response = make();
    const taken = INTERNALS_ALLOWED ? expected : null; // nothing, where internals are off
    assert.deepEqual(takeFastResponse(response), taken);
    // Taken means used, as under Deno.serve; and a Response is taken only once.
    assert.equal(response.bodyUsed, taken !== null);
    assert.equal(takeFastResponse(response), null);
  });
}

/** A subclass whose own getter says its body is used: `bodyUnused` must take its word. */
class AlwaysUsed extends Response {
  override get bodyUsed(): boolean {
    return true;
  }
}

/** Responses in each state `bodyUnused` tells apart, and what `!bodyUsed` says of each. */
const USED_OR_NOT: [string, () => Response, boolean][] = [
  ["a lone string, untouched", () => new Response("hi"), true],
  ["Response.json, untouched", () => Response.json({ a: 1 }), true],
  ["bytes, untouched", () => new Response(new Uint8Array([1])), true],
  ["a string with an init", () => new Response("hi", { status: 201 }), true],
  ["no body", () => new Response(null), true],
  ["a string being read", () => {
    const response = new Response("hi");
    response.text().catch(() => {});
    return response;
  }, false],
  ["a string whose stream was taken", () => {
    const response = new Response("hi");
    response.body!.getReader();
    return response;
  }, true],
  ["a string whose stream was read", () => {
    const response = new Response("hi");
    response.body!.getReader().read().catch(() => {});
    return response;
  }, false],
  ["a string taken by the engine", () => {
    const response = new Response("hi");
    takeFastResponse(response);
    return response;
  }, !INTERNALS_ALLOWED], // where internals are off, the engine takes nothing
  ["a subclass that says it is used", () => new AlwaysUsed("hi"), false],
];

for (const [name, make, unused] of USED_OR_NOT) {
  Deno.test(`bodyUnused: ${name}`, () => {
    const response = make();
    // Asked first: `bodyUsed` builds the body record that `bodyUnused` avoids looking at.
    assert.equal(bodyUnused(response), unused);
    assert.equal(!response.bodyUsed, unused);
  });
}

Deno.test("fast responses: a Response whose body was read is not taken", async () => {
  const response = new Response("read");
  assert.equal(await response.text(), "read");
  assert.equal(takeFastResponse(response), null);
});

Deno.test("fast responses: on the wire, the same bytes as the same Response sent through its getters", async () => {
  const makers = FAST_RESPONSES.filter(([, , parts]) => parts !== null).map(([, make]) => make);
  // `?slow` reads the headers first, which takes the Response off the fast path.
  await using s = startServer((request) => {
    const url = new URL(request.url);
    const response = makers[Number(url.pathname.slice(1))]();
    if (url.search === "?slow") response.headers.get("content-type");
    return response;
  });
  const requests = makers.flatMap((_, i) =>
    ["GET", "HEAD"].flatMap((method) =>
      ["", "?slow"].map((search) => `${method} /${i}${search} HTTP/1.1\r\nHost: x\r\n\r\n`)
    )
  );
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await writeAll(
    conn,
    utf8.encode(requests.join("") + "GET /0 HTTP/1.1\r\nConnection: close\r\nHost: x\r\n\r\n"),
  );
  const text = new TextDecoder("latin1").decode(await readToEnd(conn));
  conn.close();
  const answers = text.split(/(?=HTTP\/1\.1 )/).map((answer) => answer.replace(/date: .*\r\n/, ""));
  assert.equal(answers.length, requests.length + 1);
  for (let i = 0; i < requests.length; i += 2) {
    assert.match(answers[i], /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(answers[i], answers[i + 1], requests[i]);
  }
});

Deno.test("static bodies: a string that comes again in a row, and then another, arrive as themselves", async () => {
  const bodies = [
    "same ✓",
    "same ✓",
    "same ✓",
    "other",
    "same ✓",
    "other",
    "other",
    "é".repeat(3000),
  ];
  let next = 0;
  await using s = startServer(() => new Response(bodies[next++ % bodies.length]));
  const batch = bodies.map(() => "GET / HTTP/1.1\r\nHost: x\r\n\r\n").join("") +
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
  await writeAll(conn, utf8.encode(batch));
  const text = new TextDecoder().decode(await readToEnd(conn));
  conn.close();
  // Content-Length counts bytes; the split on the status line keeps the comparison simple.
  const got = text.split(/(?=HTTP\/1\.1 )/).map((answer) =>
    answer.slice(answer.indexOf("\r\n\r\n") + 4)
  );
  assert.deepEqual(got, [...bodies, bodies[0]]);
});
