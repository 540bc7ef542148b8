/**
 * `queue` and `push` targets: the delivery is a copy of the event appended to the event
 * log under a reserved topic, `portico.<env>.queue.<name>` or `portico.<env>.push.<channel>`.
 * Backend services consume a queue with the ordinary consumer-group API (a group with
 * `topic: "portico.*.queue.<name>"`); the push gateway subscribes to the push topics.
 *
 * The copy keeps the tenant, the CloudEvents id, the correlation id and the partition key,
 * so receivers deduplicate and order as with the original. Its dedupe key names the
 * original, the rule and the target: it is never taken for a duplicate of the original,
 * and a retried append of the same delivery is (so a retry after a lost answer does not
 * copy twice). With an input transform, `data` is the transform's output.
 *
 * A copy larger than the log takes (an input transform can make it many times the
 * original) fails for good at once: the DLQ, reason `too-large`. Retrying would build and
 * refuse the same copy until the attempts ran out.
 */
import { createHash } from 'node:crypto';
import type { CloudEventRecord, EventLog } from '../backbone/event-log.ts';
import { EventTooLargeError } from '../backbone/event-too-large-error.ts';
import type { Delivery, DeliveryResult, DeliveryTarget } from './delivery-target.ts';

export type LogCopyKind = 'queue' | 'push';

/** Queue names and push channels are one topic segment. */
export const DESTINATION = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export function copyTopic(env: string, kind: LogCopyKind, destination: string): string {
  return `portico.${env}.${kind}.${destination}`;
}

export class LogCopyTarget implements DeliveryTarget {
  readonly #log: EventLog;
  readonly #env: string;
  readonly #kind: LogCopyKind;

  constructor(options: { log: EventLog; env: string; kind: LogCopyKind }) {
    this.#log = options.log;
    this.#env = options.env;
    this.#kind = options.kind;
  }

  async deliver(delivery: Delivery): Promise<DeliveryResult> {
    const event: CloudEventRecord = { ...delivery.event, correlationid: delivery.correlationId };
    if (delivery.transformed) {
      delete event.data_base64;
      event.data = delivery.payload;
      event.datacontenttype =
        typeof delivery.payload === 'string' ? 'text/plain' : 'application/json';
    }
    const identity = createHash('sha256')
      .update(
        JSON.stringify([
          delivery.tenant,
          delivery.event.source,
          delivery.event.id,
          delivery.rule.id,
          delivery.target.index,
        ]),
      )
      .digest('base64url');
    try {
      await this.#log.append([
        {
          tenant: delivery.tenant,
          topic: copyTopic(this.#env, this.#kind, delivery.target.ref),
          partitionKey: delivery.partitionKey,
          dedupeKey: `portico-${this.#kind}:${identity}`,
          event,
        },
      ]);
    } catch (error) {
      if (!(error instanceof EventTooLargeError)) throw error; // e.g. the log is down: retry
      return {
        outcome: 'failed',
        reason: 'too-large',
        error: `the ${this.#kind} copy is ${error.bytes} bytes, over the event log's limit of ${error.limit} bytes (${error.limitSource})`,
      };
    }
    return { outcome: 'delivered' };
  }
}
