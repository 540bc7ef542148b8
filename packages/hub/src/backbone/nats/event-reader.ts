/**
 * Reading the stream: pages by position with a tenant/topic filter, lookups by event id,
 * bounds. A page uses a short-lived ephemeral consumer (no acks, in memory, filtered on
 * the server) started at `after + 1`, drained with one no-wait pull and deleted.
 */
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import type { LogBounds, LogEntry, ReadOptions, ReadPage } from '../event-log.ts';
import { parseAckReply } from './ack-tokens.ts';
import { entryFrom } from './entries.ts';
import { unavailableOr } from './nats-errors.ts';
import { pullMessages } from './pull-request.ts';
import { isNotFound } from './stream-setup.ts';
import type { SubjectLayout } from './subjects.ts';

export type EventReaderOptions = {
  nc: NatsConnection;
  jsm: JetStreamManager;
  stream: string;
  layout: SubjectLayout;
  requestTimeoutMs: number;
};

export type EventReader = {
  /**
   * A page. JetStream filters on the server (its per-block subject index), so no read
   * stops early here: a page short of `limit` holds every match up to the stream's end.
   */
  read(options: ReadOptions): Promise<ReadPage>;
  /** One entry by position, if it is still in the stream and is the given tenant's. */
  getAt(position: number, tenant: string): Promise<LogEntry | undefined>;
  bounds(): Promise<LogBounds>;
};

/** An abandoned page consumer is removed by the server after this long. */
const PAGE_CONSUMER_IDLE_MS = 30_000;

export function createEventReader(options: EventReaderOptions): EventReader {
  const { nc, jsm, stream, layout, requestTimeoutMs } = options;

  return {
    async read({ tenant, topicPattern, after, limit }) {
      const filter = layout.filterFor(tenant, topicPattern);
      if (limit <= 0) return { entries: [], next: after, end: false };
      try {
        const consumer = await jsm.consumers.add(stream, {
          ack_policy: AckPolicy.None,
          ...(after > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }
            : { deliver_policy: DeliverPolicy.All }),
          filter_subject: filter,
          mem_storage: true,
          inactive_threshold: nanos(PAGE_CONSUMER_IDLE_MS),
        });
        try {
          // num_pending: the matches after `after` when the consumer was created.
          const end = consumer.num_pending <= limit;
          const batch = Math.min(limit, consumer.num_pending);
          if (batch === 0) return { entries: [], next: after, end };
          const msgs = await pullMessages(
            nc,
            stream,
            consumer.name,
            { batch, noWait: true },
            requestTimeoutMs,
          );
          const entries = msgs.flatMap((msg) => {
            const delivery = parseAckReply(msg.reply ?? '');
            if (!delivery) return [];
            return (
              entryFrom(
                layout,
                msg.subject,
                msg.data,
                delivery.streamSequence,
                delivery.appendedAt,
              ) ?? []
            );
          });
          return { entries, next: entries[entries.length - 1]?.position ?? after, end };
        } finally {
          jsm.consumers.delete(stream, consumer.name).catch(() => undefined);
        }
      } catch (error) {
        throw unavailableOr(error);
      }
    },

    async getAt(position, tenant) {
      try {
        const stored = await jsm.streams.getMessage(stream, { seq: position });
        if (!stored) return undefined;
        const entry = entryFrom(
          layout,
          stored.subject,
          stored.data,
          stored.seq,
          stored.time.getTime(),
        );
        return entry?.tenant === tenant ? entry : undefined;
      } catch (error) {
        if (isNotFound(error) || /no message found/i.test((error as Error).message))
          return undefined;
        throw unavailableOr(error);
      }
    },

    async bounds() {
      try {
        const { state } = await jsm.streams.info(stream);
        return { first: state.messages > 0 ? state.first_seq : 0, last: state.last_seq };
      } catch (error) {
        throw unavailableOr(error);
      }
    },
  };
}
