import type { CloudEventRecord } from '../backbone/event-log.ts';
import type { FieldError } from '../http/problem.ts';

/**
 * A check that runs on every event at publish, after the CloudEvents validation and the
 * stamping, before anything is written (schema validation, publish-time policies …).
 * Capabilities provide checks; app.ts hands them to the ingestor.
 */
export type PublishVerdict =
  | { outcome: 'accept'; warnings?: string[] }
  /** Rejects the whole request with a 422 problem listing `errors` (pointers into the event). */
  | { outcome: 'reject'; detail: string; errors: FieldError[] };

export interface PublishCheck {
  readonly name: string;
  check(event: CloudEventRecord, topic: string): PublishVerdict | Promise<PublishVerdict>;
}
