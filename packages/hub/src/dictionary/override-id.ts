/**
 * Override set ids are bearer secrets of a sort (whoever has one sees the patched dictionary),
 * so they are random, 144 bits, and recognisable: `ovr_` + 24 base64url characters.
 */
import { randomBytes } from 'node:crypto';

export const OVERRIDE_HEADER = 'x-portico-override';
export const OVERRIDE_COOKIE = 'portico-override';
/** Says what happened to a presented override: `applied`, `unknown` or `expired`. */
export const OVERRIDE_STATUS_HEADER = 'x-portico-override-status';

const ID = /^ovr_[A-Za-z0-9_-]{24}$/;

export function newOverrideId(): string {
  return `ovr_${randomBytes(18).toString('base64url')}`;
}

export function isOverrideId(value: string): boolean {
  return ID.test(value);
}

/** The override id a request presents: the header first, else the cookie. */
export function presentedOverride(headers: {
  [name: string]: string | string[] | undefined;
}): string | undefined {
  const header = headers[OVERRIDE_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && value.trim() !== '') return value.trim();
  const cookie = headers.cookie;
  const cookies = Array.isArray(cookie) ? cookie.join('; ') : cookie;
  if (!cookies) return undefined;
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === OVERRIDE_COOKIE)
      return part
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}
