/**
 * `append` on JetStream. Each event is one message on its subject, published with
 * `Nats-Msg-Id` = a hash of (tenant, dedupe key), so JetStream itself drops a repeat
 * inside its duplicate window (minutes, in server memory); the DedupeStore answers for
 * Portico's longer window and records every stored event's position.
 *
 * Batches: nats-server 2.9 has no atomic multi-message publish (that arrived in 2.12),
 * so a batch is validated and serialised completely before the first publish (bad input
 * never stores anything), then its messages are published pipelined, in order. If
 * NATS fails part-way, some of the batch may be stored: the append rejects with
 * StoreUnavailableError and the events that were stored are recorded, so the caller's
 * retry of the same batch stores only the rest and reports the others as duplicates.
 * Readers can see such a partial batch until that retry.
 */
import { hash } from 'node:crypto';
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';
import { appendInputProblem } from '../append-input.ts';
import { EventTooLargeError } from '../event-too-large-error.ts';
import type { AppendInput, AppendResult } from '../event-log.ts';
import { partitionFor } from '../partition.ts';
import type { LocalAppends } from './append-notifier.ts';
import type { DedupeStore, RecordedEvent } from './dedupe-store.ts';
import type { JetStreamPublisher, PubAck } from './jetstream-publisher.ts';
import { unavailableOr } from './nats-errors.ts';
import type { SubjectLayout } from './subjects.ts';

export type AppenderOptions = {
  publisher: JetStreamPublisher;
  layout: SubjectLayout;
  partitions: number;
  dedupe: DedupeStore | undefined;
  dedupeWindowMs: number;
  clock: () => number;
  /** Told which messages this process publishes, and then which of them were stored. */
  local: LocalAppends;
  /** Largest event (serialised, bytes) to take: `events.maxEventBytes`. Default: no limit. */
  maxEventBytes?: number;
  /**
   * The connected server's `max_payload` (read on every append: after a reconnect it may
   * be another server's). Undefined while unknown.
   */
  maxPayload: () => number | undefined;
};

/**
 * Bytes of a message's `max_payload` kept for its headers (`Nats-Msg-Id` and the NATS/1.0
 * line take under 100): the server counts headers and payload together.
 */
export const HEADER_ROOM_BYTES = 256;

/**
 * Identity of (tenant, text) as a fixed-length, header- and SQL-safe string. (One-shot
 * `hash` is about twice as fast as `createHash` for such short inputs; same digest.)
 */
export function keyOf(tenant: string, text: string): string {
  return hash('sha256', `${tenant}\n${text}`, 'base64url');
}

type Item = {
  input: AppendInput;
  partition: number;
  subject: string;
  payload: Uint8Array;
  dedupeKey: string;
  eventKey: string;
};

type Plan =
  | { kind: 'publish'; msgId: string; ack?: PubAck }
  | { kind: 'known'; recorded: RecordedEvent }
  | { kind: 'repeat'; of: number };

export function createAppender(
  options: AppenderOptions,
): (batch: AppendInput[]) => Promise<AppendResult[]> {
  const { publisher, layout, partitions, dedupe, dedupeWindowMs, clock, local, maxPayload } =
    options;
  const maxEventBytes = options.maxEventBytes ?? Infinity;

  return async (batch) => {
    if (batch.length === 0) return [];
    batch.forEach((input, i) => {
      const problem = appendInputProblem(input);
      if (problem !== undefined) throw new RangeError(`batch[${i}]: ${problem}`);
    });
    // An event over the server's max_payload is refused by nats.js on every attempt, and
    // one over events.maxEventBytes was never meant to be stored: both are final, told
    // apart from NATS being down by their type.
    const serverLimit = (maxPayload() ?? Infinity) - HEADER_ROOM_BYTES;
    const limit = Math.min(maxEventBytes, serverLimit);
    // Serialise everything first: an event that cannot be stored fails the whole batch
    // before anything is published.
    const items: Item[] = batch.map((input, index) => {
      const partition = partitionFor(input.partitionKey, partitions);
      // The ingest path has serialised the event already (to measure it).
      const payload = Buffer.from(input.body ?? JSON.stringify(input.event), 'utf8');
      if (payload.length > limit)
        throw new EventTooLargeError({
          index,
          id: input.event.id,
          bytes: payload.length,
          limit,
          limitSource:
            limit === maxEventBytes
              ? 'events.maxEventBytes'
              : `the NATS server's max_payload of ${serverLimit + HEADER_ROOM_BYTES} bytes, less ${HEADER_ROOM_BYTES} for headers`,
        });
      return {
        input,
        partition,
        subject: layout.subjectFor(input.tenant, partition, input.topic),
        payload,
        dedupeKey: keyOf(input.tenant, input.dedupeKey),
        eventKey: keyOf(input.tenant, input.event.id),
      };
    });

    const now = clock();
    const notBefore = now - dedupeWindowMs;
    const held = dedupe
      ? await dedupe.find([...new Set(items.map((i) => i.dedupeKey))])
      : new Map<string, RecordedEvent>();

    const firstOf = new Map<string, number>();
    const plans: Plan[] = items.map((item, i) => {
      const first = firstOf.get(item.dedupeKey);
      if (first !== undefined) return { kind: 'repeat', of: first };
      firstOf.set(item.dedupeKey, i);
      const recorded = held.get(item.dedupeKey);
      if (recorded === undefined) return { kind: 'publish', msgId: item.dedupeKey };
      if (recorded.recordedAt >= notBefore) return { kind: 'known', recorded };
      // The key's record has left Portico's window, so this is a new event. JetStream may
      // still hold the old message id (its window runs on real time; Portico's clock may
      // be ahead): a new id, the same on every node that sees this expired record, keeps
      // concurrent re-publishes deduplicated by JetStream.
      return { kind: 'publish', msgId: `${item.dedupeKey}.${recorded.position}` };
    });

    // Issued synchronously one after the other: the server stores them in this order.
    const toPublish = plans.flatMap((plan, i) => (plan.kind === 'publish' ? [i] : []));
    const msgIds = toPublish.map((i) => (plans[i] as { msgId: string }).msgId);
    if (msgIds.length > 0) local.publishing(msgIds);
    let holders = new Map<string, RecordedEvent>();
    let published: { item: Item; ack: PubAck }[] = [];
    try {
      const acks = publisher.publish(
        toPublish.map((i, n) => ({
          subject: items[i]!.subject,
          payload: items[i]!.payload,
          msgId: msgIds[n]!,
        })),
      );
      const outcomes = await Promise.allSettled(acks);
      let failure: unknown;
      toPublish.forEach((i, n) => {
        const outcome = outcomes[n]!;
        if (outcome.status === 'fulfilled') (plans[i] as { ack?: PubAck }).ack = outcome.value;
        else failure ??= outcome.reason;
      });

      published = plans.flatMap((plan, i) =>
        plan.kind === 'publish' && plan.ack ? [{ item: items[i]!, ack: plan.ack }] : [],
      );
      if (dedupe && published.length > 0) {
        holders = await dedupe.record(
          published.map(({ item, ack }) => ({
            dedupeKey: item.dedupeKey,
            eventKey: item.eventKey,
            position: ack.seq,
            partition: item.partition,
            recordedAt: now,
          })),
          dedupeWindowMs,
        );
      }
      if (failure !== undefined) {
        const error = unavailableOr(failure);
        if (error instanceof StoreUnavailableError)
          throw new StoreUnavailableError(
            `${published.length} of ${batch.length} events were stored before NATS failed; retry the whole batch (stored events come back as duplicates): ${error.message}`,
            { cause: failure },
          );
        throw error;
      }
    } finally {
      // Whatever JetStream stored is in the log now, even when this append fails.
      if (msgIds.length > 0) {
        const appendedAt = clock();
        local.published(
          msgIds,
          published.flatMap(({ item, ack }) =>
            ack.duplicate
              ? []
              : [
                  {
                    position: ack.seq,
                    partition: item.partition,
                    tenant: item.input.tenant,
                    topic: item.input.topic,
                    event: item.input.event,
                    appendedAt,
                  },
                ],
          ),
        );
      }
    }

    const results: AppendResult[] = [];
    plans.forEach((plan, i) => {
      const item = items[i]!;
      const base = { id: item.input.event.id, topic: item.input.topic };
      if (plan.kind === 'repeat') {
        const first = results[plan.of]!;
        results.push({
          ...base,
          partition: first.partition,
          position: first.position,
          duplicate: true,
        });
      } else if (plan.kind === 'known') {
        results.push({
          ...base,
          partition: plan.recorded.partition,
          position: plan.recorded.position,
          duplicate: true,
        });
      } else {
        const ack = plan.ack!;
        const holder = holders.get(item.dedupeKey);
        // Another node stored the same key first (outside JetStream's window): ours is
        // a stray copy, and the caller is told about the original.
        const duplicate = ack.duplicate || (holder !== undefined && holder.position !== ack.seq);
        const position = holder && !ack.duplicate ? holder.position : ack.seq;
        results.push({
          ...base,
          partition: holder?.partition ?? item.partition,
          position,
          duplicate,
        });
      }
    });
    return results;
  };
}
