/**
 * Finding a target's deliveries of one event, and sending a finished delivery again.
 * `DeliveryStore.replay` brings back DLQ entries; a resend also repeats a delivery that
 * succeeded (a receiver lost what it got). Kept apart from the store because only
 * capabilities with an API per destination (webhook endpoints) need it.
 */
import type { SqlExecutor } from '../store/sql-database.ts';
import { targetKey } from './target-key.ts';

export type DeliveryRef = { id: string; status: 'pending' | 'delivered' | 'dead' };

/** The deliveries of one event (by CloudEvents id) to one target, newest first. */
export async function findTargetDeliveries(
  db: SqlExecutor,
  target: { owner: string; kind: string; ref: string },
  eventId: string,
): Promise<DeliveryRef[]> {
  return db.query<DeliveryRef>(
    `select id, status from deliveries where target_key = $1 and event_id = $2
     order by created_at desc limit 100`,
    [targetKey(target.owner, target.kind, target.ref), eventId],
  );
}

/**
 * Puts a delivered or dead delivery back to pending, due now, with a fresh attempt
 * budget (like a replay: the id is kept and `replays` counts up). False when it is
 * pending already or gone.
 */
export async function resendDelivery(db: SqlExecutor, id: string, now: number): Promise<boolean> {
  return (
    (await db.execute(
      `update deliveries set status = 'pending', due_at = $2, started_at = $2, attempts = 0,
         dead_at = null, delivered_at = null, reason = null, lease_token = null,
         replays = replays + 1
       where id = $1 and status in ('delivered', 'dead')`,
      [id, now],
    )) > 0
  );
}
