/**
 * RFC 3339 date-times (§5.6) read to epoch ms, for values parsed by hand (query and body
 * fields read beside a schema, a CloudEvent's `time` on every publish). Date.parse alone
 * is not enough: it rolls a day the month does not have over (2020-02-30 is 1 March) and
 * takes hour 24. The shape, then the fields checked by position: ~0.4 µs a call, where
 * ajv-formats' `date-time` costs ~1.1 µs, on the publish path.
 */
const SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** Epoch ms of an RFC 3339 date-time; undefined for anything else. */
export function rfc3339Millis(value: string): number | undefined {
  // The shape first; then the fields by position (no captures: this runs per event).
  if (!SHAPE.test(value)) return undefined;
  const month = digits(value, 5);
  const day = digits(value, 8);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(digits(value, 0, 4), month))
    return undefined;
  if (digits(value, 11) > 23 || digits(value, 14) > 59) return undefined;
  const zone = value.length - 6; // "+hh:mm" or "-hh:mm" ends the text unless it is Z
  const sign = value.charCodeAt(zone);
  if (
    (sign === 43 || sign === 45) &&
    (digits(value, zone + 1) > 23 || digits(value, zone + 4) > 59)
  )
    return undefined;
  const ms = Date.parse(value);
  // A leap second (23:59:60) is valid RFC 3339, but no Date holds it.
  return Number.isNaN(ms) ? undefined : ms;
}

/** The decimal number of `length` ASCII digits at `at` (the shape has checked they are). */
function digits(text: string, at: number, length = 2): number {
  let n = 0;
  for (let i = at; i < at + length; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}
