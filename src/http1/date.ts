/**
 * IMF-fixdate (RFC 9110 §5.6.7), formatted with integer arithmetic.
 *
 * `Date.prototype.toUTCString` gives the same text, but the first use of V8's `Date` in a process
 * starts its date cache and ICU's time zone data, which brought about 1.5 MiB more of Deno's
 * executable into memory; Deno.serve formats its `Date` header in Rust and never does. The
 * arithmetic is Howard Hinnant's `civil_from_days` (proleptic Gregorian calendar, days since
 * 1970-01-01).
 */

const DAY_NAMES = "Thu Fri Sat Sun Mon Tue Wed".split(" "); // 1970-01-01 was a Thursday
const MONTH_NAMES = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
const MS_PER_DAY = 86_400_000;

/** `ms` (since the epoch, UTC) as `Sun, 06 Nov 1994 08:49:37 GMT`; a year past 9999 or before 0
 * (which the format's four digits cannot hold) is left to `toUTCString`. */
export function imfFixdate(ms: number): string {
  const days = Math.floor(ms / MS_PER_DAY);
  const msOfDay = ms - days * MS_PER_DAY;
  // civil_from_days: eras of 400 years (146 097 days), counted from 0000-03-01.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) / 365,
  );
  const dayOfYear = dayOfEra -
    (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // 0 = March
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9; // 1 = January
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  if (!(year >= 0 && year <= 9999)) return new Date(ms).toUTCString();
  const seconds = Math.floor(msOfDay / 1000);
  return `${DAY_NAMES[((days % 7) + 7) % 7]}, ${pad2(day)} ${MONTH_NAMES[month - 1]} ${
    String(year).padStart(4, "0")
  } ${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${
    pad2(seconds % 60)
  } GMT`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}
