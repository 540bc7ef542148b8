/**
 * Delivery ids: UUIDv7 (RFC 9562), i.e. 48 bits of Unix milliseconds, then random bits.
 * Being time-ordered, new rows append to the end of the primary key index (and of the
 * attempt log's, which starts with the delivery id) instead of landing on a random page of
 * it: a routed batch dirties a few pages rather than one per row. Ids stay opaque strings
 * (older random v4 ids remain valid); nothing relies on their order beyond a tiebreak.
 */
import { randomFillSync } from 'node:crypto';

export function newDeliveryId(now: number = Date.now()): string {
  const bytes = randomFillSync(Buffer.alloc(16), 6);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
