/**
 * RFC 3339 date-times as the API's schemas check them (ajv-formats' `date-time`: the
 * calendar is checked, so 2020-02-30 is refused, where Date.parse alone rolls it over to
 * 1 March), for values parsed by hand (query and body fields read before or beside a
 * schema, CloudEvents attributes).
 */
import { fullFormats } from 'ajv-formats/dist/formats.js';

const dateTime = fullFormats['date-time'] as { validate: (value: string) => boolean };
/** The shape RFC 3339 §5.6 gives (ajv-formats also takes `+0100` and `+01`). */
const SHAPE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** Epoch ms of an RFC 3339 date-time; undefined for anything else. */
export function rfc3339Millis(value: string): number | undefined {
  if (!SHAPE.test(value) || !dateTime.validate(value)) return undefined;
  const ms = Date.parse(value);
  // A leap second (23:59:60) is valid RFC 3339, but no Date holds it.
  return Number.isNaN(ms) ? undefined : ms;
}
