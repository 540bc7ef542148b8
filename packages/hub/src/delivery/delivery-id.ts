/**
 * Delivery ids: UUIDv7 (RFC 9562), i.e. 48 bits of Unix milliseconds, then random bits.
 * Being time-ordered, new rows append to the end of the primary key index (and of the
 * attempt log's, which starts with the delivery id) instead of landing on a random page of
 * it: a routed batch dirties a few pages rather than one per row. Ids stay opaque strings
 * (older random v4 ids remain valid); nothing relies on their order beyond a tiebreak.
 */
import { randomUUID } from 'node:crypto';

/**
 * A v4 UUID's random bits with the time in front: randomUUID draws from Node's pooled
 * entropy (one randomFillSync per id was a measurable share of routing a batch). The v4
 * string already has the RFC 9562 variant; the version nibble becomes 7, and 74 random
 * bits remain (rand_a and rand_b of the v7 layout).
 */
export function newDeliveryId(now: number = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
