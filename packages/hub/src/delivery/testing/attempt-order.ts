import type { AttemptCursor } from '../attempt-log.ts';

/**
 * The attempt log's listing order, for tests to build what a listing must return: newest
 * first; within a millisecond by delivery id, replay and attempt, descending.
 */
export function newestAttemptFirst(x: AttemptCursor, y: AttemptCursor): number {
  return (
    y.startedAt - x.startedAt ||
    (x.deliveryId < y.deliveryId ? 1 : x.deliveryId > y.deliveryId ? -1 : 0) ||
    y.replay - x.replay ||
    y.attempt - x.attempt
  );
}
