/**
 * Differential parsing: sockserve against Node's llhttp over the corpus (corpus.ts, ≥ 300 cases).
 *
 * For every case: what sockserve parses (sockserve_model.ts, checked against a live server over
 * a real socket), and what Node's http server parses (llhttp_ref.mjs, run with `node`). Accept /
 * reject and the parsed fields (method, target, version, fields, body) must agree, or the
 * difference must fall under a rule below — each rule names the section of docs/conformance.md
 * that justifies sockserve's side. A new, unexplained difference fails the test; so does a rule
 * that no longer matches anything (the document would be out of date).
 */
import assert from "node:assert/strict";
import { Client, parseResponses, readToEnd, startServer } from "../../helpers.ts";
import { fromLatin1 } from "../../unit/fuzz/arbitraries.ts";
import { type Case, corpus } from "./corpus.ts";
import { type Parsed, type ParsedRequest, sockserveParse } from "./sockserve_model.ts";

interface NodeResult {
  requests: ParsedRequest[];
  outcome: "ok" | "error" | "incomplete" | "connect" | "upgrade" | "hang";
  code?: string;
}

const CASES = corpus();

async function runNode(cases: Case[]): Promise<NodeResult[]> {
  const child = new Deno.Command("node", {
    args: [new URL("./llhttp_ref.mjs", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const input = JSON.stringify(cases.map((c) => btoa(fromLatin1(c.bytes))));
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

interface Live {
  served: { method: string; body: string | null }[];
  status: number | null;
  message: string;
}

/** Sends a case to a live server, half-closes, reads every answer. */
async function runLive(port: number, log: Live["served"], c: Case): Promise<Live> {
  log.length = 0;
  const client = await Client.connect(port);
  try {
    await client.send(c.bytes);
    await client.conn.closeWrite();
    const text = fromLatin1(await readToEnd(client.conn));
    const responses = parseResponses(text);
    const last = responses.at(-1);
    const failed = last !== undefined && last.status !== 200;
    return {
      served: [...log],
      status: failed ? last.status : null,
      message: failed ? last.body : "",
    };
  } finally {
    client.close();
  }
}

/** The model and the live server tell the same story (else the comparison would be moot). */
function assertModelMatchesLive(c: Case, model: Parsed, live: Live): void {
  const where = `${c.name}: ${JSON.stringify(fromLatin1(c.bytes).slice(0, 200))}`;
  const truncatedBody = live.message.startsWith("connection closed before the end");
  assert.deepEqual(
    live.served.map((r) => r.method),
    model.requests.map((r) => r.method),
    `methods served, ${where}`,
  );
  live.served.forEach((r, i) => {
    if (r.body !== null) assert.equal(r.body, model.requests[i].body, `body, ${where}`);
  });
  if (model.outcome === "error") {
    assert.equal(live.status, model.status, `error status, ${where}: ${live.message}`);
  } else if (model.outcome === "incomplete") {
    assert.ok(live.status === null || truncatedBody, `incomplete, ${where}: ${live.message}`);
  } else {
    assert.equal(live.status, null, `accepted, ${where}: ${live.message}`);
  }
}

type Difference = { case: Case; ours: Parsed; node: NodeResult };

const text = (d: Difference) => fromLatin1(d.case.bytes);
/** The head of the first request (up to its empty line), or everything if it never ends. */
const head = (d: Difference) => {
  const t = text(d);
  const end = t.indexOf("\r\n\r\n");
  return end === -1 ? t : t.slice(0, end + 2);
};
const fieldsOf = (d: Difference, name: string) =>
  [...head(d).matchAll(new RegExp(`\r\n${name}[ \t]*:[ \t]*([^\r\n]*)`, "gi"))].map((m) =>
    m[1].trim()
  );
const nodeCode = (d: Difference, ...codes: string[]) =>
  d.node.outcome === "error" && codes.includes(d.node.code ?? "");
const ourStatus = (d: Difference, ...statuses: number[]) =>
  d.ours.outcome === "error" && statuses.includes(d.ours.status!);
const nodeAccepts = (d: Difference) => d.node.outcome === "ok" && d.node.requests.length > 0;
/** The trailer section of a chunked body: the lines after the last chunk, up to the empty line. */
const trailerLines = (d: Difference) => {
  const m = /\r\n0(;[^\r\n]*)?\r\n((?:[^\r\n]*\r\n)*?)\r\n/.exec(text(d).slice(head(d).length));
  return m ? m[2].split("\r\n").filter((l) => l !== "") : [];
};
const validHost = (host: string) => {
  try {
    return /^[A-Za-z0-9\-._~!$&'()*+,;=%:[\]]*$/.test(host) && !host.includes("@") &&
      new URL(`http://${host}/`).host !== "";
  } catch {
    return false;
  }
};

/**
 * Each documented difference: the heading of its section in docs/conformance.md and a predicate
 * that recognises it. The first matching rule explains a difference.
 */
const RULES: { section: string; matches: (d: Difference) => boolean }[] = [
  {
    section: "Methods are tokens",
    matches: (d) =>
      nodeCode(d, "HPE_INVALID_METHOD") && d.ours.requests.length > d.node.requests.length,
  },
  {
    section: "Transfer-Encoding is a list",
    matches: (d) =>
      nodeCode(d, "HPE_INVALID_TRANSFER_ENCODING") && d.ours.outcome === "ok" &&
      fieldsOf(d, "transfer-encoding").every((v) => /^(,|\s)*chunked(,|\s)*$/i.test(v)),
  },
  {
    section: "Transfer codings other than chunked",
    matches: (d) =>
      ourStatus(d, 501) &&
      fieldsOf(d, "transfer-encoding").some((v) => /[^\s,]/.test(v.replace(/chunked/gi, ""))),
  },
  {
    section: "Identical Content-Length values",
    matches: (d) => {
      const values = fieldsOf(d, "content-length").flatMap((v) =>
        v.split(",").map((x) => x.trim())
      );
      return d.ours.outcome === "ok" && d.node.outcome === "error" && values.length > 1 &&
        values.every((v) => v === values[0]);
    },
  },
  {
    section: "Chunk extensions",
    matches: (d) =>
      nodeCode(d, "HPE_INVALID_CHUNK_SIZE", "HPE_STRICT") && d.ours.outcome === "ok" &&
      /\r\n[0-9a-fA-F]+([ \t]+;|;\r\n)/.test(text(d).slice(head(d).length - 2)),
  },
  {
    section: "Chunk sizes of more than 16 digits",
    matches: (d) => ourStatus(d, 400) && /\r\n[0-9a-fA-F]{17,}/.test(text(d)),
  },
  {
    section: "Trailer fields are discarded",
    matches: (d) =>
      d.ours.outcome === "ok" && d.node.outcome === "error" && trailerLines(d).length > 0,
  },
  {
    section: "One space between the parts of the request line",
    matches: (d) =>
      ourStatus(d, 400) && nodeAccepts(d) && /^[^\r\n]*( {2}|\t)[^\r\n]*\r\n/.test(text(d)),
  },
  {
    section: "Bare LF",
    matches: (d) => ourStatus(d, 400) && nodeAccepts(d) && /(^|[^\r])\n/.test(head(d)),
  },
  {
    section: "HTTP versions other than 1.0 and 1.1",
    matches: (d) =>
      ourStatus(d, 400, 505) && nodeAccepts(d) &&
      !["1.0", "1.1"].includes(d.node.requests[0].version),
  },
  {
    section: "Host",
    matches: (d) =>
      ourStatus(d, 400) && nodeAccepts(d) &&
      (fieldsOf(d, "host").length > 1 || !fieldsOf(d, "host").every(validHost)),
  },
  {
    section: "The asterisk target",
    matches: (d) => ourStatus(d, 400) && nodeAccepts(d) && /^[A-Z]+ \* /.test(text(d)),
  },
  {
    section: "CONNECT",
    matches: (d) => ourStatus(d, 501) && d.node.outcome === "connect",
  },
  {
    section: "Upgrade",
    matches: (d) => d.ours.outcome === "ok" && d.node.outcome === "upgrade",
  },
  {
    section: "TRACE",
    matches: (d) => ourStatus(d, 501) && /^TRAC[EK] /.test(text(d)) && nodeAccepts(d),
  },
  {
    section: "Limits",
    matches: (d) => ourStatus(d, 414, 431) && nodeAccepts(d),
  },
  {
    section: "Bare CR",
    matches: (d) =>
      d.ours.outcome === "incomplete" && d.node.outcome === "error" && /\r(?!\n)/.test(text(d)),
  },
];

Deno.test(`differential: sockserve and llhttp over ${CASES.length} requests`, async () => {
  assert.ok(CASES.length >= 300, `corpus has ${CASES.length} cases`);
  const node = await runNode(CASES);
  assert.equal(node.length, CASES.length);

  const served: Live["served"] = [];
  await using s = startServer(async (req) => {
    const entry = { method: req.method, body: null as string | null };
    if (req.body) {
      try {
        entry.body = fromLatin1(new Uint8Array(await req.arrayBuffer()));
      } catch (error) {
        // A body that failed to arrive: not a served request.
        throw error;
      }
    }
    served.push(entry);
    return new Response("ok");
  });

  const differences: Difference[] = [];
  const mismatches: string[] = [];
  for (let i = 0; i < CASES.length; i++) {
    const c = CASES[i];
    const ours = sockserveParse(c.bytes);
    const live = await runLive(s.port, served, c);
    try {
      assertModelMatchesLive(c, ours, live);
    } catch (error) {
      mismatches.push((error as Error).message.split("\n")[0] + ` live: ${JSON.stringify(live)}`);
    }
    const same = ours.outcome === node[i].outcome &&
      JSON.stringify(ours.requests) === JSON.stringify(node[i].requests);
    if (!same) differences.push({ case: c, ours, node: node[i] });
  }

  const unexplained: string[] = [];
  const used = new Map<string, number>();
  for (const d of differences) {
    const rule = RULES.find((r) => r.matches(d));
    if (rule) used.set(rule.section, (used.get(rule.section) ?? 0) + 1);
    else {
      unexplained.push(
        `${d.case.name} ${JSON.stringify(text(d).slice(0, 120))}\n  ours: ${
          JSON.stringify(d.ours).slice(0, 300)
        }\n  node: ${JSON.stringify(d.node).slice(0, 300)}`,
      );
    }
  }
  console.log(
    `differential: ${CASES.length} cases, ${differences.length} differences:`,
    Object.fromEntries(used),
  );
  assert.deepEqual(unexplained, [], `unexplained differences:\n${unexplained.join("\n")}`);
  assert.deepEqual(
    mismatches,
    [],
    `the model and the live server disagree:\n${mismatches.join("\n")}`,
  );
  for (const rule of RULES) assert.ok(used.has(rule.section), `rule unused: ${rule.section}`);
});
