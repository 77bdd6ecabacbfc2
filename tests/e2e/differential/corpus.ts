/**
 * The differential corpus: request-smuggling variants written by hand (CL.TE, TE.CL, TE.TE with
 * obfuscated Transfer-Encoding, duplicate and signed Content-Length, chunk-size tricks, bare CR,
 * bare LF, NUL, obs-fold, over-long lines) and requests generated from the fuzz arbitraries with
 * a fixed seed: valid ones, and valid ones with one hostile byte inserted.
 */
import fc from "fast-check";
import {
  chunkedParts,
  fromLatin1,
  headParts,
  latin1,
  serializeChunked,
  serializeHead,
} from "../../unit/fuzz/arbitraries.ts";

export interface Case {
  name: string;
  bytes: Uint8Array;
}

/** A request for /smuggled after each case: whoever serves it read a different boundary. */
export const SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";

const post = (fields: string, body: string) =>
  `POST / HTTP/1.1\r\nHost: h\r\n${fields}\r\n${body}${SMUGGLED}`;

const TE_VARIANTS: [string, string][] = [
  ["plain", "Transfer-Encoding: chunked"],
  ["no space", "Transfer-Encoding:chunked"],
  ["space before colon", "Transfer-Encoding : chunked"],
  ["upper case value", "Transfer-Encoding: CHUNKED"],
  ["upper case name", "TRANSFER-ENCODING: chunked"],
  ["tab before value", "Transfer-Encoding:\tchunked"],
  ["trailing tab", "Transfer-Encoding: chunked\t"],
  ["trailing spaces", "Transfer-Encoding: chunked   "],
  ["vertical tab", "Transfer-Encoding:\x0bchunked"],
  ["form feed", "Transfer-Encoding:\x0cchunked"],
  ["xchunked", "Transfer-Encoding: xchunked"],
  ["chunked-x", "Transfer-Encoding: chunked-x"],
  ["chunk", "Transfer-Encoding: chunk"],
  ["quoted", 'Transfer-Encoding: "chunked"'],
  ["with parameter", "Transfer-Encoding: chunked;q=1"],
  ["identity, chunked", "Transfer-Encoding: identity, chunked"],
  ["chunked, identity", "Transfer-Encoding: chunked, identity"],
  ["gzip, chunked", "Transfer-Encoding: gzip, chunked"],
  ["chunked, chunked", "Transfer-Encoding: chunked, chunked"],
  ["trailing comma", "Transfer-Encoding: chunked,"],
  ["leading comma", "Transfer-Encoding: ,chunked"],
  ["two fields, x last", "Transfer-Encoding: chunked\r\nTransfer-Encoding: x"],
  ["two fields, x first", "Transfer-Encoding: x\r\nTransfer-Encoding: chunked"],
  ["two fields, both chunked", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"],
  ["empty then chunked", "Transfer-Encoding:\r\nTransfer-Encoding: chunked"],
  ["obs-fold before value", "Transfer-Encoding:\r\n chunked"],
  ["obs-fold after value", "Transfer-Encoding: chunked\r\n x"],
  ["bare LF before", "X: y\nTransfer-Encoding: chunked"],
  ["bare CR before", "X: y\rTransfer-Encoding: chunked"],
  ["underscore", "Transfer_Encoding: chunked"],
  ["NUL in value", "Transfer-Encoding: chu\0nked"],
  ["NUL after value", "Transfer-Encoding: chunked\0"],
  ["obs-text after value", "Transfer-Encoding: chunked\xff"],
  ["leading space on line", " Transfer-Encoding: chunked"],
];

const CL_VARIANTS: [string, string][] = [
  ["plain", "Content-Length: 5"],
  ["plus sign", "Content-Length: +5"],
  ["minus sign", "Content-Length: -5"],
  ["leading zeros", "Content-Length: 005"],
  ["spaces around", "Content-Length:   5   "],
  ["space inside", "Content-Length: 5 5"],
  ["hex", "Content-Length: 0x5"],
  ["decimal point", "Content-Length: 5.0"],
  ["exponent", "Content-Length: 5e0"],
  ["empty", "Content-Length: "],
  ["list of equal values", "Content-Length: 5, 5"],
  ["list of different values", "Content-Length: 5, 6"],
  ["two equal fields", "Content-Length: 5\r\nContent-Length: 5"],
  ["two different fields", "Content-Length: 5\r\nContent-Length: 6"],
  ["huge", "Content-Length: 99999999999999999999999"],
  ["semicolon", "Content-Length: 5;"],
  ["vertical tab", "Content-Length:\x0b5"],
  ["space before colon", "Content-Length : 5"],
  ["obs-fold", "Content-Length:\r\n 5"],
  ["NUL", "Content-Length: 5\0"],
  ["tab", "Content-Length:\t5"],
  ["upper-case name", "CONTENT-LENGTH: 5"],
];

const CHUNK_TRICKS: [string, string][] = [
  ["valid", "5\r\nhello\r\n0\r\n\r\n"],
  ["upper hex", "A\r\n0123456789\r\n0\r\n\r\n"],
  ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"],
  ["plus sign", "+5\r\nhello\r\n0\r\n\r\n"],
  ["minus sign", "-5\r\nhello\r\n0\r\n\r\n"],
  ["leading space", " 5\r\nhello\r\n0\r\n\r\n"],
  ["trailing space", "5 \r\nhello\r\n0\r\n\r\n"],
  ["trailing tab", "5\t\r\nhello\r\n0\r\n\r\n"],
  ["space then extension", "5 ;a=b\r\nhello\r\n0\r\n\r\n"],
  ["extension", "5;a=b\r\nhello\r\n0\r\n\r\n"],
  ["quoted extension", '5;a="b c"\r\nhello\r\n0\r\n\r\n'],
  ["extension without name", "5;\r\nhello\r\n0\r\n\r\n"],
  ["extension with bare LF", "5;a\nb\r\nhello\r\n0\r\n\r\n"],
  ["extension with NUL", "5;a\0\r\nhello\r\n0\r\n\r\n"],
  ["leading zeros", "0005\r\nhello\r\n0000\r\n\r\n"],
  ["17 digits", "00000000000000005\r\nhello\r\n0\r\n\r\n"],
  ["overflow", "fffffffffffffffff\r\nhello\r\n0\r\n\r\n"],
  ["size with underscore", "1_0\r\nhello\r\n0\r\n\r\n"],
  ["size line bare LF", "5\nhello\r\n0\r\n\r\n"],
  ["size line bare CR", "5\rhello\r\n0\r\n\r\n"],
  ["data without CRLF", "5\r\nhello0\r\n\r\n"],
  ["data with bare LF", "5\r\nhello\n0\r\n\r\n"],
  ["data longer than size", "3\r\nhello\r\n0\r\n\r\n"],
  ["data shorter than size", "7\r\nhello\r\n0\r\n\r\n"],
  ["last chunk bare LF", "5\r\nhello\r\n0\n\n"],
  ["trailer", "5\r\nhello\r\n0\r\nX: y\r\n\r\n"],
  ["trailer Content-Length", "5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n"],
  ["trailer with bare LF", "5\r\nhello\r\n0\r\nX: y\n\r\n"],
  ["trailer obs-fold", "5\r\nhello\r\n0\r\nX: y\r\n z\r\n\r\n"],
  ["no final CRLF", "5\r\nhello\r\n0\r\n"],
  ["empty size line", "\r\nhello\r\n0\r\n\r\n"],
  ["many small chunks", "1\r\nh\r\n1\r\ne\r\n1\r\nl\r\n1\r\nl\r\n1\r\no\r\n0\r\n\r\n"],
  ["last chunk with extension", "5\r\nhello\r\n0;x=y\r\n\r\n"],
];

const LINE_TRICKS: [string, string][] = [
  ["valid", "GET / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["bare LF everywhere", "GET / HTTP/1.1\nHost: h\n\n"],
  ["bare LF after request line", "GET / HTTP/1.1\nHost: h\r\n\r\n"],
  ["bare LF after field", "GET / HTTP/1.1\r\nHost: h\n\r\n"],
  ["bare LF at the end", "GET / HTTP/1.1\r\nHost: h\r\n\n"],
  ["bare CR in request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["bare CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"],
  ["bare CR ending a field", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n"],
  ["NUL in target", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"],
  ["NUL in name", "GET / HTTP/1.1\r\nHost: h\r\nX\0: a\r\n\r\n"],
  ["DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n"],
  ["control in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n"],
  ["obs-text in value", "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xe9\r\n\r\n"],
  ["obs-text in target", "GET /caf\xe9 HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"],
  ["obs-fold with tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"],
  ["whitespace before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n"],
  ["tab separators", "GET\t/\tHTTP/1.1\r\nHost: h\r\n\r\n"],
  ["two spaces after method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["two spaces before version", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["trailing space after version", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n"],
  ["leading space", " GET / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["leading CRLF", "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["two leading CRLFs", "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["leading bare LF", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["lower-case method", "get / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["unknown method", "FROB / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["method with symbols", "M!#$%&'*+-.^_`|~ / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["no method", " / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["no target", "GET  HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["no version", "GET /\r\nHost: h\r\n\r\n"],
  ["HTTP/0.9 style", "GET /\r\n\r\n"],
  ["lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n"],
  ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n"],
  ["HTTP/1.10", "GET / HTTP/1.10\r\nHost: h\r\n\r\n"],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n"],
  ["HTTP/0.9", "GET / HTTP/0.9\r\nHost: h\r\n\r\n"],
  ["HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n"],
  ["HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n"],
  ["two Host fields", "GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n"],
  ["two different Host fields", "GET / HTTP/1.1\r\nHost: h\r\nhost: i\r\n\r\n"],
  ["empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n"],
  ["Host with space", "GET / HTTP/1.1\r\nHost: h i\r\n\r\n"],
  ["Host with slash", "GET / HTTP/1.1\r\nHost: h/i\r\n\r\n"],
  ["Host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"],
  ["absolute-form", "GET http://h/a?b HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["absolute-form other host", "GET http://other/a HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["asterisk OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["asterisk GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["authority-form GET", "GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["CONNECT", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"],
  ["target with fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["target with backslash", "GET /a\\b HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["target with quote", 'GET /a"b HTTP/1.1\r\nHost: h\r\n\r\n'],
  ["target with braces", "GET /{a}|^` HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["space before colon", "GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n"],
  ["tab before colon", "GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n"],
  ["empty name", "GET / HTTP/1.1\r\nHost: h\r\n: y\r\n\r\n"],
  ["no colon", "GET / HTTP/1.1\r\nHost: h\r\nXy\r\n\r\n"],
  ["non-token name", "GET / HTTP/1.1\r\nHost: h\r\nX(y): z\r\n\r\n"],
  ["name with slash", "GET / HTTP/1.1\r\nHost: h\r\nX/y: z\r\n\r\n"],
  ["empty value", "GET / HTTP/1.1\r\nHost: h\r\nX:\r\n\r\n"],
  ["value with colons", "GET / HTTP/1.1\r\nHost: h\r\nX: a:b:c\r\n\r\n"],
  ["value inner spaces kept", "GET / HTTP/1.1\r\nHost: h\r\nX: a  \t b\r\n\r\n"],
  ["duplicate fields kept in order", "GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\nY: 2\r\nX: 3\r\n\r\n"],
  [
    "Expect 100-continue",
    "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
  ],
  ["unknown Expect", "GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n"],
  [
    "Connection close then more",
    `GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n${SMUGGLED}`,
  ],
  ["HTTP/1.0 keep-alive then more", `GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n${SMUGGLED}`],
  ["HTTP/1.0 then more", `GET / HTTP/1.0\r\n\r\n${SMUGGLED}`],
  ["Upgrade", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"],
  ["Upgrade without Connection", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"],
  ["TRACE", "TRACE / HTTP/1.1\r\nHost: h\r\n\r\n"],
  ["GET with body", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"],
  ["truncated head", "GET / HTTP/1.1\r\nHost: h\r\n"],
  ["truncated body", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nhello"],
  [
    "truncated chunked body",
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
  ],
  ["long URI (9 KiB)", `GET /${"a".repeat(9 * 1024)} HTTP/1.1\r\nHost: h\r\n\r\n`],
  ["long field (17 KiB)", `GET / HTTP/1.1\r\nHost: h\r\nX: ${"a".repeat(17 * 1024)}\r\n\r\n`],
  [
    "long head (many fields, 20 KiB)",
    `GET / HTTP/1.1\r\nHost: h\r\n${"X: aaaaaaaaaaaaaaaa\r\n".repeat(1000)}\r\n`,
  ],
  ["101 fields", `GET / HTTP/1.1\r\nHost: h\r\n${"X: a\r\n".repeat(100)}\r\n`],
  ["long method", `${"A".repeat(100)} / HTTP/1.1\r\nHost: h\r\n\r\n`],
  ["long bare-LF line", `GET /${"a".repeat(9 * 1024)} HTTP/1.1\nHost: h\n\n`],
];

function hand(): Case[] {
  const cases: Case[] = [];
  const add = (name: string, text: string) => cases.push({ name, bytes: latin1(text) });
  for (const [name, te] of TE_VARIANTS) {
    add(`TE ${name}`, post(`${te}\r\n`, "5\r\nhello\r\n0\r\n\r\n"));
    add(`CL.TE ${name}`, post(`Content-Length: 6\r\n${te}\r\n`, "0\r\n\r\nX"));
    add(`TE.CL ${name}`, post(`${te}\r\nContent-Length: 3\r\n`, "5\r\nhello\r\n0\r\n\r\n"));
  }
  for (const [name, cl] of CL_VARIANTS) {
    add(`CL ${name}`, post(`${cl}\r\n`, "hello"));
    add(`CL ${name}, short body`, post(`${cl}\r\n`, "hel"));
  }
  for (const [name, body] of CHUNK_TRICKS) {
    add(`chunk ${name}`, post("Transfer-Encoding: chunked\r\n", body));
  }
  for (const [name, text] of LINE_TRICKS) add(`line ${name}`, text);
  return cases;
}

const HOSTILE = ["\r", "\n", "\0", " ", "\t", ":", "\x7f", "\x0b", "\xff", ",", ";", "\r\n"];

/** Valid requests with a body (Content-Length or chunked) from the fuzz generators. */
const validRequest = fc.tuple(
  headParts,
  fc.oneof(
    fc.constant(null),
    fc.string({ maxLength: 30 }).map((s) => ({ kind: "length" as const, body: s })),
    chunkedParts.map((parts) => ({ kind: "chunked" as const, body: serializeChunked(parts) })),
  ),
).map(([parts, body]) => {
  if (body === null) return serializeHead(parts);
  // A GET or HEAD handler never reads a body, so a bad one is found only after the answer: the
  // generated requests with a body use POST, where both sides read it before answering.
  const withBody = { ...parts, method: "POST" };
  if (body.kind === "chunked") {
    return serializeHead({ ...withBody, minor: 1 }, "Transfer-Encoding: chunked\r\n") + body.body;
  }
  const text = fromLatin1(new TextEncoder().encode(body.body)); // UTF-8 bytes as Latin-1 text
  return serializeHead(withBody, `Content-Length: ${text.length}\r\n`) + text;
});

function generated(seed: number): Case[] {
  const valid = fc.sample(validRequest, { seed, numRuns: 120 });
  const mutated = fc.sample(
    fc.tuple(validRequest, fc.nat(), fc.constantFrom(...HOSTILE), fc.boolean()),
    { seed: seed + 1, numRuns: 120 },
  ).map(([text, at, byte, replace]) => {
    const i = at % text.length;
    return text.slice(0, i) + byte + text.slice(replace ? i + 1 : i);
  });
  return [
    ...valid.map((text, i) => ({ name: `generated valid #${i}`, bytes: latin1(text) })),
    ...mutated.map((text, i) => ({ name: `generated mutated #${i}`, bytes: latin1(text) })),
  ];
}

export function corpus(seed = 7): Case[] {
  return [...hand(), ...generated(seed)];
}
