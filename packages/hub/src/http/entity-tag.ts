/** Strong entity tags for JSON bodies and RFC 9110 `If-None-Match` matching (304s). */
import { createHash } from 'node:crypto';

/** A quoted tag derived from the body: equal bodies, equal tags, on every hub node. */
export function entityTagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/** `*`, or a list of entity tags compared weakly (a `W/` prefix is ignored). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
