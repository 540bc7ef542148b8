/**
 * The delivery engine's page cursors (the DLQ listing, the attempt log): a tuple of the last
 * row's sort keys as base64url JSON, opaque to clients so its form can change. A cursor is
 * the client's text, so decoding checks each value as the engines will read it: PostgreSQL
 * refuses a bigint that is not an integer (1.5, 1e300, 2^63), an int beyond 32 bits and a
 * text holding U+0000, which would be a 500 instead of the caller's 400.
 */

export function encodePageCursor(values: readonly (number | string)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** The cursor's values, if it is a base64url JSON array of exactly `length`; else undefined. */
export function decodePageCursor(cursor: string, length: number): unknown[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return Array.isArray(value) && value.length === length ? value : undefined;
}

/** A non-negative safe integer (a bigint column: epoch ms). */
export const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** A non-negative 32-bit integer (an integer column). */
export const isInt32 = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2_147_483_647;

/** Delivery ids are 36 characters (delivery-id.ts); anything far longer was not made here. */
const MAX_ID = 128;

/** A delivery id as a cursor may hold it. */
export const isCursorId = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= MAX_ID && !v.includes('\0');
