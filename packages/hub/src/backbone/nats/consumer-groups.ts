/**
 * Consumer groups as durable JetStream pull consumers, one per group on the event
 * stream, named by the encoded group name. JetStream keeps the cursor, the leases (ack
 * wait), redelivery, nak delays, termination and max deliveries, so every hub node
 * shares one group's work and each delivery goes to one puller.
 *
 * The group's Portico spec (tenant, topic pattern, start) rides in the consumer's
 * description; the filter subject enforces tenant and pattern on the server. The
 * `consumer` argument of `pull` names the caller only: JetStream does not need it.
 */
import { nanos, type Msg, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';
import { ConsumerGroupLimitError } from '../consumer-group-limit.ts';
import { ConsumerGroupNotFoundError } from '../consumer-group-not-found.ts';
import type {
  ConsumerGroupInfo,
  ConsumerGroupSpec,
  EnsureGroupLimits,
  EventLog,
  PulledEvent,
} from '../event-log.ts';
import { leaseFromToken, parseAckReply, tokenFor, type Lease } from './ack-tokens.ts';
import { BoundedSet } from './bounded-set.ts';
import { entryFrom } from './entries.ts';
import { unavailableOr } from './nats-errors.ts';
import { ConsumerGoneError, pullMessages } from './pull-request.ts';
import { createSettlementBatcher } from './settlement-batcher.ts';
import { isNotFound } from './stream-setup.ts';
import { encodeToken, type SubjectLayout } from './subjects.ts';

export type ConsumerGroupsOptions = {
  nc: NatsConnection;
  jsm: JetStreamManager;
  stream: string;
  layout: SubjectLayout;
  requestTimeoutMs: number;
  /** Most deliveries one group may have leased at once (JetStream's max_ack_pending). */
  maxAckPending: number;
  clock: () => number;
};

export type ConsumerGroups = Pick<
  EventLog,
  'ensureGroup' | 'getGroup' | 'hasGroup' | 'listGroups' | 'deleteGroup' | 'pull'
> & {
  settle(group: string, token: string, how: Settlement): Promise<boolean>;
};

export type Settlement = { kind: 'ack' } | { kind: 'nak'; delayMs: number } | { kind: 'term' };

type Description = {
  portico: 1;
  name: string;
  tenant?: string;
  topicPattern?: string;
  startAt: 'beginning' | 'end';
};

/** Settled tokens remembered per process, so a second ack of one delivery says false. */
const SETTLED_MEMORY = 100_000;

export function createConsumerGroups(options: ConsumerGroupsOptions): ConsumerGroups {
  const { nc, jsm, stream, layout, requestTimeoutMs, clock } = options;
  const settled = new BoundedSet<string>(SETTLED_MEMORY);
  const settlements = createSettlementBatcher(nc, requestTimeoutMs);
  /** Ack wait per consumer, learnt from the server; refreshed by ensureGroup and getGroup. */
  const ackWaits = new Map<string, number>();

  const configFor = (spec: ConsumerGroupSpec): Partial<ConsumerConfig> => {
    const description: Description = {
      portico: 1,
      name: spec.name,
      startAt: spec.startAt,
      ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
      ...(spec.topicPattern !== undefined ? { topicPattern: spec.topicPattern } : {}),
    };
    return {
      ack_wait: nanos(spec.ackWaitMs),
      max_deliver: spec.maxDeliver > 0 ? spec.maxDeliver : -1,
      filter_subject: layout.filterFor(spec.tenant, spec.topicPattern),
      max_ack_pending: options.maxAckPending,
      description: JSON.stringify(description),
    };
  };

  /** The Portico spec a consumer carries; undefined for consumers that are not groups. */
  const descriptionOf = (info: ConsumerInfo): Description | undefined => {
    try {
      const description = JSON.parse(info.config.description ?? '') as Description | null;
      return description?.portico === 1 ? description : undefined;
    } catch {
      return undefined;
    }
  };

  const toInfo = (info: ConsumerInfo): ConsumerGroupInfo | undefined => {
    const description = descriptionOf(info);
    if (description === undefined) return undefined;
    const ackWaitMs = Math.round((info.config.ack_wait ?? 0) / 1_000_000);
    ackWaits.set(info.name, ackWaitMs);
    return {
      name: description.name,
      ...(description.tenant !== undefined ? { tenant: description.tenant } : {}),
      ...(description.topicPattern !== undefined ? { topicPattern: description.topicPattern } : {}),
      ackWaitMs,
      maxDeliver: (info.config.max_deliver ?? -1) > 0 ? info.config.max_deliver! : 0,
      startAt: description.startAt,
      // Counted by the server, from its subject index: exact, at no cost to this process.
      pending: info.num_pending,
      pendingIsLowerBound: false,
      inflight: info.num_ack_pending,
    };
  };

  const consumerInfo = async (durable: string): Promise<ConsumerInfo | undefined> => {
    try {
      return await jsm.consumers.info(stream, durable);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw unavailableOr(error);
    }
  };

  const toPulled = (msg: Msg, ackWaitMs: number, pulledAt: number): PulledEvent | undefined => {
    const delivery = parseAckReply(msg.reply ?? '');
    if (!delivery) return undefined;
    const entry = entryFrom(
      layout,
      msg.subject,
      msg.data,
      delivery.streamSequence,
      delivery.appendedAt,
    );
    if (!entry) return undefined;
    return {
      ...entry,
      token: tokenFor({ delivery, pulledAt, ackWaitMs }),
      deliveryCount: delivery.deliveryCount,
    };
  };

  const pullOnce = async (
    durable: string,
    request: Parameters<typeof pullMessages>[3],
  ): Promise<Msg[]> => {
    try {
      return await pullMessages(nc, stream, durable, request, requestTimeoutMs);
    } catch (error) {
      if (error instanceof ConsumerGoneError) {
        // No responder also means JetStream is down; tell the two apart.
        if ((await consumerInfo(durable)) === undefined)
          throw new ConsumerGroupNotFoundError(durable);
        throw new StoreUnavailableError('NATS JetStream did not serve a pull request', {
          cause: error,
        });
      }
      throw unavailableOr(error);
    }
  };

  /** The groups of `tenant` in the stream (a listing: creations are rare). */
  const tenantGroups = async (tenant: string): Promise<number> => {
    let count = 0;
    for await (const info of await jsm.consumers.list(stream))
      if (descriptionOf(info)?.tenant === tenant) count++;
    return count;
  };

  /**
   * Creations on this node run one at a time, so a tenant's count and its next creation
   * never interleave here. JetStream has no conditional create: creations racing on other
   * nodes can each pass the count, so a tenant may end up over its limit by at most one
   * group per other node (nodes - 1).
   */
  let creations: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const run = creations.then(work, work);
    creations = run.catch(() => undefined);
    return run;
  };

  const create = async (
    spec: ConsumerGroupSpec,
    limits: EnsureGroupLimits | undefined,
  ): Promise<void> => {
    const durable = encodeToken(spec.name);
    const config = configFor(spec);
    // Looked up again here: a creation of the same group may have gone first.
    if (await consumerInfo(durable)) {
      await jsm.consumers.update(stream, durable, config);
      return;
    }
    const max = limits?.maxGroupsPerTenant;
    if (max !== undefined && spec.tenant !== undefined && (await tenantGroups(spec.tenant)) >= max)
      throw new ConsumerGroupLimitError(spec.tenant, max);
    try {
      await jsm.consumers.add(stream, {
        ...config,
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: spec.startAt === 'end' ? DeliverPolicy.New : DeliverPolicy.All,
      });
    } catch (error) {
      // Another node created it meanwhile: keep its cursor, apply our spec.
      if (!(await consumerInfo(durable))) throw error;
      await jsm.consumers.update(stream, durable, config);
    }
  };

  return {
    async ensureGroup(spec, limits) {
      const durable = encodeToken(spec.name);
      try {
        if (await consumerInfo(durable))
          await jsm.consumers.update(stream, durable, configFor(spec));
        else await oneAtATime(() => create(spec, limits));
      } catch (error) {
        throw unavailableOr(error);
      }
      ackWaits.set(durable, spec.ackWaitMs);
    },

    async getGroup(name) {
      const info = await consumerInfo(encodeToken(name));
      return info ? toInfo(info) : undefined;
    },

    async hasGroup(name) {
      const info = await consumerInfo(encodeToken(name));
      return info !== undefined && descriptionOf(info) !== undefined;
    },

    async listGroups() {
      try {
        const groups: ConsumerGroupInfo[] = [];
        for await (const info of await jsm.consumers.list(stream)) {
          const group = toInfo(info);
          if (group) groups.push(group);
        }
        return groups.sort((a, b) => a.name.localeCompare(b.name));
      } catch (error) {
        throw unavailableOr(error);
      }
    },

    async deleteGroup(name) {
      ackWaits.delete(encodeToken(name));
      try {
        return await jsm.consumers.delete(stream, encodeToken(name));
      } catch (error) {
        if (isNotFound(error)) return false;
        throw unavailableOr(error);
      }
    },

    async pull(group, _consumer, max, waitMs, signal) {
      const durable = encodeToken(group);
      let ackWaitMs = ackWaits.get(durable);
      if (ackWaitMs === undefined) {
        const info = await consumerInfo(durable);
        if (!info) throw new ConsumerGroupNotFoundError(group);
        ackWaitMs = Math.round((info.config.ack_wait ?? 0) / 1_000_000);
        ackWaits.set(durable, ackWaitMs);
      }
      if (max <= 0 || signal?.aborted) return [];
      // What is there now; else wait for one; then top up without waiting. Each request
      // is sized so that nothing is leased to a request nobody listens to any more.
      // A lease is dated from when its pull was *sent* (JetStream starts the ack wait when it
      // delivers, which is after that), so a busy event loop reading the answer late
      // cannot make this node think a lease is still valid after JetStream redelivered it.
      // A message that arrives while a request waits is dated at its arrival.
      let sentAt = clock();
      let msgs = await pullOnce(durable, { batch: max, noWait: true });
      let dated = msgs.map((msg) => toPulled(msg, ackWaitMs, sentAt));
      if (msgs.length === 0 && waitMs > 0 && !signal?.aborted) {
        // An abort ends the request (unsubscribes): JetStream drops a pull request whose
        // reply subject has no interest, rather than deliver to nobody.
        msgs = await pullOnce(durable, { batch: 1, expiresMs: waitMs, signal });
        dated = msgs.map((msg) => toPulled(msg, ackWaitMs, clock()));
        if (msgs.length === 1 && max > 1 && !signal?.aborted) {
          sentAt = clock();
          const more = await pullOnce(durable, { batch: max - 1, noWait: true });
          dated.push(...more.map((msg) => toPulled(msg, ackWaitMs, sentAt)));
        }
      }
      return dated.flatMap((pulled) => pulled ?? []);
    },

    async settle(group, token, how) {
      const lease: Lease | undefined = leaseFromToken(token, stream, encodeToken(group));
      if (!lease) return false;
      // A lease that ran out may already be someone else's delivery: refuse it, as the
      // embedded log does (JetStream itself would still take the late ack).
      if (clock() > lease.pulledAt + lease.ackWaitMs) return false;
      if (settled.has(lease.delivery.reply)) return false;
      const body =
        how.kind === 'ack'
          ? '+ACK'
          : how.kind === 'term'
            ? '+TERM'
            : how.delayMs > 0
              ? `-NAK ${JSON.stringify({ delay: nanos(how.delayMs) })}`
              : '-NAK';
      await settlements.send(encodeToken(group), lease.delivery.reply, body);
      // Two concurrent settlements of one token: only the first says true.
      return settled.add(lease.delivery.reply);
    },
  };
}
