/**
 * The targets chart: every target's measured ratio as a bar on a log scale, with its goal marked,
 * as a self-contained SVG (no script, no external font or service) for the README to embed.
 * `deno task bench` writes it next to the results (bench/targets.svg for a full run); it can also
 * be drawn again from a results file:
 *
 *   deno run --allow-read --allow-write bench/chart.ts bench/results.md [bench/targets.svg]
 */

export interface ChartRow {
  label: string;
  op: ">=" | "<=";
  goal: number;
  /** NaN when not measured. */
  ratio: number;
  met: "yes" | "no" | "not measured";
}

const WIDTH = 820;
const LEFT = 24;
const PLOT = 680;
const TOP = 78;
const ROW = 44;
/** The axis: 1/8× to 8×, log 2, so that 0.5× and 2× are as far from parity. */
const MIN = 1 / 8;
const MAX = 8;
const TICKS = [0.125, 0.25, 0.5, 1, 2, 4, 8];
const COLOURS = { yes: "#2e7d32", no: "#c62828", "not measured": "#9e9e9e" };

const x = (r: number) =>
  LEFT + (Math.log2(Math.min(MAX, Math.max(MIN, r))) - Math.log2(MIN)) /
    (Math.log2(MAX) - Math.log2(MIN)) * PLOT;

const escape = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const times = (n: number) => `${Number(n.toFixed(2))}×`;

/** The SVG text of the chart for `rows`, with `caption` (the run's date and commit) under it. */
export function targetsSvg(rows: ChartRow[], caption: string): string {
  const height = TOP + rows.length * ROW + 40;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, Segoe UI, ` +
    `Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="600">sockserve against its targets: ` +
    `ratio to the peer (log scale)</text>`,
    `<text x="${LEFT}" y="40" fill="#555">A "≥" bar must reach its goal mark, a "≤" bar ` +
    `(memory) must stay short of it. Green: met; red: not met.</text>`,
  ];
  const bottom = TOP + rows.length * ROW - 6;
  for (const t of TICKS) {
    const at = x(t).toFixed(1);
    const parity = t === 1;
    out.push(
      `<line x1="${at}" y1="${TOP - 8}" x2="${at}" y2="${bottom}" stroke="${
        parity ? "#555" : "#ddd"
      }"${parity ? ' stroke-dasharray="4 3"' : ""}/>`,
      `<text x="${at}" y="${TOP - 12}" text-anchor="middle" fill="#555">${t}×</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    const colour = COLOURS[row.met];
    const symbol = row.op === ">=" ? "≥" : "≤";
    out.push(
      // A white halo keeps the label readable where it crosses a grid line.
      `<text x="${LEFT}" y="${y + 12}" stroke="#fff" stroke-width="4" paint-order="stroke">` +
        `${escape(row.label)}</text>`,
      `<rect x="${LEFT}" y="${y + 18}" width="${PLOT}" height="14" fill="#f5f5f5"/>`,
    );
    if (Number.isFinite(row.ratio)) {
      const end = x(row.ratio);
      out.push(
        `<rect x="${LEFT}" y="${y + 18}" width="${(end - LEFT).toFixed(1)}" height="14" ` +
          `fill="${colour}" fill-opacity="0.85"/>`,
      );
      const clipped = row.ratio > MAX || row.ratio < MIN ? " (off scale)" : "";
      const [tx, anchor] = end > LEFT + PLOT - 60 ? [end - 4, "end"] : [end + 4, "start"];
      out.push(
        `<text x="${tx.toFixed(1)}" y="${y + 29}" text-anchor="${anchor}" font-weight="600" ` +
          `fill="${anchor === "end" ? "#fff" : "#222"}">${times(row.ratio)}${clipped}</text>`,
      );
    } else {
      out.push(`<text x="${LEFT + 4}" y="${y + 29}" fill="#777">not measured</text>`);
    }
    const g = x(row.goal).toFixed(1);
    out.push(
      `<line x1="${g}" y1="${y + 14}" x2="${g}" y2="${y + 36}" stroke="#111" stroke-width="2.5"/>`,
      `<text x="${LEFT + PLOT + 8}" y="${y + 29}" fill="#111">goal ${symbol} ${
        times(row.goal)
      }</text>`,
    );
  });
  out.push(
    `<text x="${LEFT}" y="${height - 14}" fill="#777">${escape(caption)}</text>`,
    "</svg>",
    "",
  );
  return out.join("\n");
}

/**
 * The rows of the targets table in a results file written by bench/report.ts
 * (`| issue | target | goal | measured | met |`).
 */
export function rowsFromResults(markdown: string): ChartRow[] {
  const rows: ChartRow[] = [];
  for (const line of markdown.split("\n")) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells.length !== 5 || !/^\d+$/.test(cells[0])) continue;
    const [, label, goal, measured, met] = cells;
    const g = goal.match(/^([≥≤])\s*([\d.]+)×/);
    if (!g || !["yes", "no", "not measured"].includes(met)) continue;
    const r = measured.match(/^([\d.]+)×/);
    rows.push({
      label,
      op: g[1] === "≥" ? ">=" : "<=",
      goal: Number(g[2]),
      ratio: r ? Number(r[1]) : NaN,
      met: met as ChartRow["met"],
    });
  }
  return rows;
}

if (import.meta.main) {
  const [input = "bench/results.md", output] = Deno.args;
  const text = await Deno.readTextFile(input);
  const rows = rowsFromResults(text);
  if (rows.length === 0) throw new Error(`${input} has no targets table`);
  const when = text.match(/on (\d{4}-\d\d-\d\d \d\d:\d\d) UTC/)?.[1] ?? "an unknown date";
  const commit = text.match(/^- sockserve (.+)$/m)?.[1] ?? "unknown";
  const out = output ?? input.replace(/results([^/]*)\.md$/, "targets$1.svg");
  if (out === input) throw new Error("give the output file: the input is not named results*.md");
  await Deno.writeTextFile(
    out,
    targetsSvg(rows, `deno task bench, ${when} UTC, sockserve ${commit}`),
  );
  console.error(`chart: wrote ${out}`);
}
