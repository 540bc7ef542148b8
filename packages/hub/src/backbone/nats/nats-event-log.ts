/**
 * The scale-out event log: `EventLog` on NATS JetStream (see README.md for the subject
 * and table layout and for what is weaker than the embedded log).
 *
 * One connection per log; nats.js reconnects forever with backoff, re-sends what was
 * buffered, and re-creates the ordered consumer behind `onAppend`. Durable consumers and
 * the stream live on the server (file storage), so they survive a NATS restart. While
 * NATS is unreachable, calls fail with StoreUnavailableError (HTTP 503), never crash.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';
import type {
  AppendInput,
  AppendResult,
  EventLog,
  LogEntry,
  RetentionPolicy,
} from '../event-log.ts';
import { createAppendNotifier } from './append-notifier.ts';
import { createAppender, HEADER_ROOM_BYTES, keyOf } from './appender.ts';
import { createConsumerGroups } from './consumer-groups.ts';
import type { DedupeStore } from './dedupe-store.ts';
import { createEventReader } from './event-reader.ts';
import { createJetStreamPublisher } from './jetstream-publisher.ts';
import { unavailableOr } from './nats-errors.ts';
import { pullMessages } from './pull-request.ts';
import { ensureStream, limitsFor } from './stream-setup.ts';
import { parseAckReply } from './ack-tokens.ts';
import { subjectLayout } from './subjects.ts';
import { urlWithoutPassword } from '../../config/url-without-password.ts';

export type NatsEventLogOptions = {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** JetStream stream name. Default `PORTICO_EVENTS`. */
  stream?: string;
  /** First subject token(s); the stream holds `<prefix>.>`. Default `portico`. */
  subjectPrefix?: string;
  /** Partition count for hash(partitionKey) mod N. Default 16 (as the embedded log). */
  partitions?: number;
  /** Portico's dedupe window, kept by `dedupe`. Default 24 h. */
  dedupeWindowMs?: number;
  /** JetStream's own (in-memory) duplicate window. Default min(2 min, dedupeWindowMs). */
  jetstreamDuplicateWindowMs?: number;
  /**
   * Portico's dedupe record and id index (e.g. `openSqlDedupeStore` over PostgreSQL).
   * Without it, dedupe holds only within JetStream's window and `getById` scans.
   */
  dedupe?: DedupeStore;
  /** Standing stream limits; `applyRetention` replaces them. */
  retention?: RetentionPolicy;
  /** Timeout of one JetStream API call or publish (ms). Default 5000. */
  requestTimeoutMs?: number;
  /** Most deliveries one consumer group may have leased at once. Default 10000. */
  maxAckPending?: number;
  /** Connection name shown by the server. */
  name?: string;
  /**
   * Largest event (serialised, bytes) an append takes: `events.maxEventBytes`. Opening
   * fails with MaxEventBytesOverMaxPayloadError when it does not fit in one message of
   * the server. Default: only the server's max_payload limits events.
   */
  maxEventBytes?: number;
  /** Told about errors that have no caller to go to (listeners, the notifier). */
  onError?: (error: unknown) => void;
  clock?: () => number;
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `maxEventBytes` (plus room for headers) is more than the NATS server takes in one
 * message: events the hub accepts at ingest could never be stored.
 */
export class MaxEventBytesOverMaxPayloadError extends Error {
  override name = 'MaxEventBytesOverMaxPayloadError';
  readonly maxEventBytes: number;
  readonly maxPayload: number;
  readonly headerRoomBytes = HEADER_ROOM_BYTES;
  constructor(maxEventBytes: number, maxPayload: number) {
    super(
      `maxEventBytes is ${maxEventBytes} bytes, but the NATS server takes messages of at most ${maxPayload} bytes (max_payload), ${HEADER_ROOM_BYTES} of them kept for headers`,
    );
    this.maxEventBytes = maxEventBytes;
    this.maxPayload = maxPayload;
  }
}

export async function openNatsEventLog(options: NatsEventLogOptions): Promise<EventLog> {
  const stream = options.stream ?? 'PORTICO_EVENTS';
  const layout = subjectLayout(options.subjectPrefix ?? 'portico');
  const partitions = options.partitions ?? 16;
  if (!Number.isSafeInteger(partitions) || partitions < 1)
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  const dedupeWindowMs = options.dedupeWindowMs ?? DAY_MS;
  const duplicateWindowMs = Math.max(
    1_000,
    options.jetstreamDuplicateWindowMs ?? Math.min(120_000, dedupeWindowMs),
  );
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const clock = options.clock ?? Date.now;
  const onError = options.onError ?? (() => undefined);
  const dedupe = options.dedupe;

  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      name: options.name ?? 'portico-hub',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: requestTimeoutMs,
      // Otherwise every publish builds two Error objects up front for async stack traces
      // (about a tenth of the hub's CPU under batch ingest).
      noAsyncTraces: true,
    });
  } catch (error) {
    const servers = urlWithoutPassword(String(options.servers));
    throw new StoreUnavailableError(`cannot connect to NATS at ${servers}`, {
      cause: error,
    });
  }

  // Fail rather than clamp: the operator promised producers events of maxEventBytes, and
  // quietly taking less would turn that promise into 413s (or, between nodes of a rolling
  // deploy on different servers, into answers that depend on the node). A node that will
  // not start is noticed at deploy time, when either number is easy to change.
  const maxPayload = nc.info?.max_payload;
  if (
    options.maxEventBytes !== undefined &&
    maxPayload !== undefined &&
    options.maxEventBytes + HEADER_ROOM_BYTES > maxPayload
  ) {
    await nc.close().catch(() => undefined);
    throw new MaxEventBytesOverMaxPayloadError(options.maxEventBytes, maxPayload);
  }

  let jsm: JetStreamManager;
  let lastSeen: number;
  try {
    jsm = await jetstreamManager(nc, { timeout: requestTimeoutMs });
    const info = await ensureStream(jsm, {
      name: stream,
      subject: `${layout.prefix}.>`,
      duplicateWindowMs,
      retention: options.retention ?? {},
    });
    lastSeen = info.state.last_seq;
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw unavailableOr(error);
  }
  const js = jetstream(nc, { timeout: requestTimeoutMs });

  const notifier = createAppendNotifier({ js, stream, layout, lastSeen, onError });
  const appendBatch = createAppender({
    publisher: createJetStreamPublisher(nc, { timeoutMs: requestTimeoutMs }),
    layout,
    partitions,
    dedupe,
    dedupeWindowMs,
    clock,
    local: notifier,
    ...(options.maxEventBytes !== undefined ? { maxEventBytes: options.maxEventBytes } : {}),
    maxPayload: () => nc.info?.max_payload,
  });
  const reader = createEventReader({ nc, jsm, stream, layout, requestTimeoutMs });
  const groups = createConsumerGroups({
    nc,
    jsm,
    stream,
    layout,
    requestTimeoutMs,
    maxAckPending: options.maxAckPending ?? 10_000,
    clock,
  });

  const inflight = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;
  const open = () => {
    if (closing) throw new StoreUnavailableError('the NATS event log is closed');
  };

  /** The first position appended at or after `since` (epoch ms); last + 1 when none. */
  const firstPositionSince = async (since: number, last: number): Promise<number> => {
    const consumer = await jsm.consumers.add(stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(since).toISOString(),
      mem_storage: true,
      inactive_threshold: nanos(30_000),
    });
    try {
      if (consumer.num_pending === 0) return last + 1;
      const [msg] = await pullMessages(
        nc,
        stream,
        consumer.name,
        { batch: 1, noWait: true },
        requestTimeoutMs,
      );
      return msg ? (parseAckReply(msg.reply ?? '')?.streamSequence ?? last + 1) : last + 1;
    } finally {
      jsm.consumers.delete(stream, consumer.name).catch(() => undefined);
    }
  };

  const log: EventLog = {
    append(batch: AppendInput[]): Promise<AppendResult[]> {
      try {
        open();
      } catch (error) {
        return Promise.reject(error);
      }
      const work = appendBatch(batch);
      inflight.add(work);
      const forget = () => inflight.delete(work);
      work.then(forget, forget);
      return work;
    },

    async read(readOptions) {
      open();
      return reader.read(readOptions);
    },

    async getById(tenant, id) {
      open();
      if (dedupe) {
        const position = await dedupe.positionOf(keyOf(tenant, id));
        if (position === undefined) return undefined;
        const entry = await reader.getAt(position, tenant);
        return entry?.event.id === id ? entry : undefined;
      }
      // No index: scan the tenant's events (slow; a deployment should pass `dedupe`).
      let found: LogEntry | undefined;
      for (let after = 0; ;) {
        const page = await reader.read({ tenant, after, limit: 1_000 });
        for (const entry of page.entries) if (entry.event.id === id) found = entry;
        if (page.end) return found;
        after = page.next;
      }
    },

    async bounds() {
      open();
      return reader.bounds();
    },

    async ensureGroup(spec, limits) {
      open();
      return groups.ensureGroup(spec, limits);
    },
    async getGroup(name) {
      open();
      return groups.getGroup(name);
    },
    async hasGroup(name) {
      open();
      return groups.hasGroup(name);
    },
    async listGroups() {
      open();
      return groups.listGroups();
    },
    async deleteGroup(name) {
      open();
      return groups.deleteGroup(name);
    },
    async pull(group, consumer, max, waitMs, signal) {
      open();
      return groups.pull(group, consumer, max, waitMs, signal);
    },
    async ack(group, token) {
      open();
      return groups.settle(group, token, { kind: 'ack' });
    },
    async nack(group, token, delayMs) {
      open();
      return groups.settle(group, token, { kind: 'nak', delayMs });
    },
    async term(group, token) {
      open();
      return groups.settle(group, token, { kind: 'term' });
    },

    onAppend(listener) {
      return notifier.subscribe(listener);
    },

    async applyRetention(policy) {
      open();
      try {
        const current = await jsm.streams.info(stream);
        const before = current.state;
        // Standing limits, enforced by the server from now on (maxBytes 0 = "drop all
        // now", not a limit JetStream can hold).
        await jsm.streams.update(stream, {
          ...current.config,
          ...limitsFor(duplicateWindowMs, policy),
        });
        // And now: JetStream applies a lowered max_age only on its next age check.
        let cut = 0;
        if (policy.maxBytes === 0) cut = before.last_seq + 1;
        else if (policy.maxAgeMs !== undefined && policy.maxAgeMs > 0)
          cut = await firstPositionSince(clock() - policy.maxAgeMs, before.last_seq);
        if (cut > before.first_seq) await jsm.streams.purge(stream, { seq: cut });
        const after = (await jsm.streams.info(stream)).state;
        const appendedSince = after.last_seq - before.last_seq;
        const removed = Math.max(0, before.messages + appendedSince - after.messages);
        if (dedupe)
          await dedupe.forgetBefore(after.messages > 0 ? after.first_seq : after.last_seq + 1);
        return { removed };
      } catch (error) {
        throw unavailableOr(error);
      }
    },

    async ready() {
      if (closing || nc.isClosed()) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.min(2_000, requestTimeoutMs));
      });
      const probe = jsm.streams.info(stream).then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([probe, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    close() {
      closing ??= (async () => {
        // Appends already accepted finish (and are acknowledged) first.
        await Promise.allSettled([...inflight]);
        await notifier.close();
        await nc.close().catch(() => undefined);
      })();
      return closing;
    },
  };
  return log;
}
