/**
 * Proactive negotiation helpers (RFC 9110 §12): reading the weighted lists of `Accept` and
 * `Accept-Encoding`. Only what the file server needs: the weight a client gives to a value.
 */

interface Weighted {
  /** Lower-cased value without parameters ("gzip", "text/html", "*\/*"). */
  value: string;
  /** The `q` weight, 0 to 1 (RFC 9110 §12.4.2); malformed weights count as 1. */
  q: number;
}

/** Parses `a;q=0.5, b, c;level=1` into values with weights. */
export function parseWeightedList(header: string): Weighted[] {
  const list: Weighted[] = [];
  for (const element of header.split(",")) {
    const [rawValue, ...params] = element.split(";");
    const value = rawValue.trim().toLowerCase();
    if (value === "") continue;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(param);
      if (match) q = Math.min(1, Number(match[1]));
    }
    list.push({ value, q });
  }
  return list;
}

/**
 * The weight a client's `Accept` gives to a media type: the most specific matching range wins
 * (RFC 9110 §12.5.1), so `text/html;q=0, *\/*` refuses HTML. Null header: everything is fine (1).
 */
export function mediaTypeWeight(accept: string | null, type: string): number {
  if (accept === null) return 1;
  const group = type.slice(0, type.indexOf("/"));
  let best: { specificity: number; q: number } = { specificity: -1, q: 0 };
  for (const { value, q } of parseWeightedList(accept)) {
    const specificity = value === type ? 2 : value === `${group}/*` ? 1 : value === "*/*" ? 0 : -1;
    if (specificity > best.specificity) best = { specificity, q };
  }
  return best.q;
}

/**
 * The content codings a client accepts, among `supported` (in the server's order of preference),
 * best first: higher weight first, the server's order on ties. Codings must be asked for (or "*"
 * must be); a request without `Accept-Encoding` gets identity, as nginx and Caddy do.
 */
export function acceptedEncodings<T extends string>(
  acceptEncoding: string | null,
  supported: readonly T[],
): T[] {
  if (acceptEncoding === null) return [];
  const list = parseWeightedList(acceptEncoding);
  const weight = (coding: string) =>
    list.find((item) => item.value === coding)?.q ?? list.find((item) => item.value === "*")?.q ??
      0;
  return supported
    .map((coding, order) => ({ coding, order, q: weight(coding) }))
    .filter((item) => item.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order)
    .map((item) => item.coding);
}
