/**
 * The `webhook-id` of a message: one event to one endpoint. It is derived, not stored, so
 * it is the same on every attempt, every replay and resend, on every hub node, and even
 * when the same event reaches the endpoint through two rules: receivers deduplicate on it.
 * base64url has no `.` (the Standard Webhooks signed content is `id.timestamp.body`).
 */
import { hash } from 'node:crypto';

export function messageId(
  event: { tenantid: string; source: string; id: string },
  endpointId: string,
): string {
  // One-shot hash (no Hash object per attempt); the input and so the id are unchanged.
  const digest = hash(
    'sha256',
    JSON.stringify([event.tenantid, event.source, event.id, endpointId]),
    'base64url',
  );
  return `msg_${digest.slice(0, 32)}`;
}
