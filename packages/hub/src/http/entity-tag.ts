/** Strong entity tags for JSON bodies and RFC 9110 `If-None-Match` matching (304s). */
import { createHash } from 'node:crypto';

/** A quoted tag derived from the body: equal bodies, equal tags, on every hub node. */
export function entityTagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/**
 * Whether a write may go ahead under RFC 9110's `If-Match` (compared strongly: `*` or one of
 * the tags; fails when nothing exists) and `If-None-Match` (`*` or a tag: fails when it
 * matches what exists). `current`: the tag of what is stored, undefined when nothing is.
 */
export function writePreconditionHolds(
  headers: { 'if-match'?: string | undefined; 'if-none-match'?: string | undefined },
  current: string | undefined,
): boolean {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (current === undefined) return false;
    if (ifMatch.trim() !== '*' && !ifMatch.split(',').some((tag) => tag.trim() === current))
      return false;
  }
  const ifNoneMatch = headers['if-none-match'];
  return !(
    current !== undefined &&
    ifNoneMatch !== undefined &&
    ifNoneMatchHits(ifNoneMatch, current)
  );
}

/** `*`, or a list of entity tags compared weakly (a `W/` prefix is ignored). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
