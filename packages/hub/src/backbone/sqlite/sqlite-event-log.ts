/**
 * The embedded event log: `EventLog` on one `node:sqlite` database in WAL mode.
 *
 * Writes (appends, leases, acks, group changes, retention) run on a writer thread
 * (log-writer-thread.ts) with its own connection, so a commit's fsync does not stall the
 * event loop and requests arriving meanwhile join the next group commit. Reads run here,
 * on a read-only connection: WAL readers see every committed transaction and never wait
 * for the writer.
 */
import type {
  AppendInput,
  AppendResult,
  CloudEventRecord,
  ConsumerGroupInfo,
  ConsumerGroupSpec,
  EnsureGroupLimits,
  EventLog,
  LogBounds,
  LogEntry,
  PulledEvent,
  ReadOptions,
  ReadPage,
  RetentionPolicy,
} from '../event-log.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { appendInputProblem } from '../append-input.ts';
import { EventTooLargeError, utf8BytesOver } from '../event-too-large-error.ts';
import { createConsumerGroups } from './consumer-groups.ts';
import { registerTopicMatcher } from './event-filter.ts';
import { createEventReader } from './event-reader.ts';
import { createGroupCommitter, type Outcome } from './group-commit.ts';
import { startLogWriter } from './log-writer.ts';
import { createRecentEvents } from './recent-events.ts';
import { createScanWindow, DEFAULT_SCAN_ROWS } from './scan-window.ts';
import { openLogDatabase } from './schema.ts';
import { createStatementCache } from './statement-cache.ts';
import { createWakeups } from './wakeups.ts';
import {
  decodeError,
  type EncodedAppend,
  type LeasedRow,
  type Settlement,
} from './writer-protocol.ts';

export type SqliteEventLogOptions = {
  /** Database file (created if missing); its directory must exist. */
  path: string;
  /** Partition count for `hash(partitionKey) mod partitions`. Default 16. */
  partitions?: number;
  /** How long a dedupe key makes a second append a duplicate. Default 24 h. */
  dedupeWindowMs?: number;
  /** Epoch milliseconds; injectable for tests. Default `Date.now`. */
  clock?: () => number;
  /**
   * Largest event (serialised, UTF-8 bytes) an append takes; a larger one fails its batch
   * with EventTooLargeError. The hub passes `events.maxEventBytes`, the limit ingest
   * enforces, so events derived from others (queue and push copies, transformed) are held
   * to it too. Default: no limit.
   */
  maxEventBytes?: number;
  /**
   * Most rows of a tenant one read with a topic pattern, or one group's lag count, examines
   * on the event loop (scan-window.ts). A read stopped by it says so (`end: false`, `next`
   * past the rows examined); a lag count says `pendingIsLowerBound`. Default 10,000.
   */
  scanRows?: number;
};

export type SqliteEventLogStats = {
  /** Append transactions committed (one per group commit). */
  commits: number;
  /** `append` calls that reached a commit (successful or not). */
  appendCalls: number;
  /** Events stored (duplicates excluded). */
  events: number;
  duplicates: number;
  /** Lease transactions run for `pull`: its first look, then one per wake-up or timer. */
  leases: number;
};

export type SqliteEventLog = EventLog & {
  readonly path: string;
  stats(): SqliteEventLogStats;
};

const DEFAULT_PARTITIONS = 16;
const DEFAULT_DEDUPE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Recently appended events held for pulls (recent-events.ts): at most this many... */
const RECENT_EVENTS = 4096;
/** ...and at most this much text (UTF-16 code units). */
const RECENT_CHARS = 4 * 1024 * 1024;
/** Topics remembered as valid (appendInputProblem); cleared when there are more. */
const MAX_REMEMBERED_TOPICS = 4096;

export function openSqliteEventLog(options: SqliteEventLogOptions): SqliteEventLog {
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const dedupeWindowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const clock = options.clock ?? Date.now;
  const maxEventBytes = options.maxEventBytes ?? Infinity;
  if (!(maxEventBytes > 0))
    throw new RangeError(`maxEventBytes must be positive, got ${maxEventBytes}`);
  if (!Number.isSafeInteger(partitions) || partitions < 1)
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  if (!(dedupeWindowMs >= 0))
    throw new RangeError(`dedupeWindowMs must be >= 0, got ${dedupeWindowMs}`);

  // Created (or checked) here, synchronously, so a bad file fails the open itself.
  const db = openLogDatabase(options.path);
  db.exec('PRAGMA query_only = 1'); // every write goes through the writer thread
  registerTopicMatcher(db);
  const statements = createStatementCache(db);
  const scanRows = options.scanRows ?? DEFAULT_SCAN_ROWS;
  const reader = createEventReader(db, statements, createScanWindow(statements, scanRows));
  // Only the read side (get, spec, names, nextDueAt) of the groups is used on this connection.
  const groups = createConsumerGroups(db, {
    statements,
    setDurability: () => undefined,
    scanRows,
  });
  const writer = startLogWriter({ path: options.path, partitions, dedupeWindowMs });
  const wakeups = createWakeups((group) => groups.spec(group));
  const listeners = new Set<(entries: LogEntry[]) => void>();
  const recent = createRecentEvents({ maxEvents: RECENT_EVENTS, maxChars: RECENT_CHARS });
  const stats: SqliteEventLogStats = {
    commits: 0,
    appendCalls: 0,
    events: 0,
    duplicates: 0,
    leases: 0,
  };
  let lastCommit = 0;
  let closing: Promise<void> | undefined;
  const validTopics = new Set<string>();

  const notify = (entries: LogEntry[]): void => {
    for (const listener of [...listeners]) {
      try {
        listener(entries);
      } catch (error) {
        // A listener's bug must not fail appends that are already durable.
        process.emitWarning(
          `event log onAppend listener threw: ${String(error)}`,
          'PorticoEventLogWarning',
        );
      }
    }
    wakeups.wakeFor(entries);
  };

  type Prepared = { inputs: AppendInput[]; encoded: EncodedAppend[] };
  const committer = createGroupCommitter<Prepared, AppendResult[]>(async (batches) => {
    const { outcomes, now, commit } = await writer.send({
      op: 'append',
      batches: batches.map((b) => b.encoded),
      now: clock(),
    });
    if (commit !== lastCommit) stats.commits++;
    lastCommit = commit;
    stats.appendCalls += batches.length;
    const entries: LogEntry[] = [];
    const answers = batches.map(({ inputs, encoded }, b): Outcome<AppendResult[]> => {
      const outcome = outcomes[b]!;
      if (!outcome.ok) return { ok: false, error: decodeError(outcome.error) };
      const results = inputs.map((input, i): AppendResult => {
        const [partition, position, duplicate] = outcome.results[i]!;
        if (duplicate === 1) stats.duplicates++;
        else {
          stats.events++;
          recent.add(position, input.event, encoded[i]!.body);
          // The caller's own object, not a re-parse: listeners see exactly what was appended.
          entries.push({
            position,
            partition,
            tenant: input.tenant,
            topic: input.topic,
            event: input.event,
            appendedAt: now,
          });
        }
        return {
          id: input.event.id,
          topic: input.topic,
          partition,
          position,
          duplicate: duplicate === 1,
        };
      });
      return { ok: true, value: results };
    });
    if (entries.length > 0) queueMicrotask(() => notify(entries));
    return answers;
  });

  // Acks and terms of the same tick share one transaction: a consumer settling a pulled
  // batch one token at a time would otherwise pay a WAL commit per event.
  const settler = createGroupCommitter<Settlement, boolean>(async (settlements) => {
    const answers = await writer.send({ op: 'settle', settlements });
    return answers.map((a): Outcome<boolean> =>
      a.ok ? a : { ok: false, error: decodeError(a.error) },
    );
  });
  const settle = async (request: Settlement): Promise<boolean> => {
    assertOpen();
    return settler.submit(request);
  };

  /** Leased rows as pulled events; a body left out by the writer is one `recent` held. */
  const pulled = (rows: LeasedRow[]): PulledEvent[] => {
    const out: PulledEvent[] = [];
    for (const row of rows) {
      const event =
        row.body === '' ? (recent.take(row.position) ?? storedEvent(row.position)) : undefined;
      // Removed by retention since the lease: nothing left to deliver (the lease lapses).
      if (row.body === '' && event === undefined) continue;
      out.push({
        position: row.position,
        partition: row.partition,
        tenant: row.tenant,
        topic: row.topic,
        event: event ?? (JSON.parse(row.body) as CloudEventRecord),
        appendedAt: row.appended_at,
        token: row.token,
        deliveryCount: row.deliveryCount,
      });
    }
    return out;
  };
  const storedEvent = (position: number): CloudEventRecord | undefined => {
    const body = reader.bodyAt(position);
    return body === undefined ? undefined : (JSON.parse(body) as CloudEventRecord);
  };

  const assertOpen = (): void => {
    if (closing !== undefined) throw new Error(`event log ${options.path} is closed`);
  };
  /** Runs synchronous work as a promise, so a throw becomes a rejection. */
  const run = async <T>(work: () => T): Promise<T> => {
    assertOpen();
    return work();
  };

  return {
    path: options.path,
    stats: () => ({ ...stats }),

    async append(batch) {
      assertOpen();
      if (!Array.isArray(batch)) throw new TypeError('append expects an array of events');
      const encoded: EncodedAppend[] = [];
      if (validTopics.size > MAX_REMEMBERED_TOPICS) validTopics.clear();
      for (const [index, input] of batch.entries()) {
        const problem = appendInputProblem(input, validTopics);
        if (problem !== undefined) throw new TypeError(`append: event ${index}: ${problem}`);
        const body = input.body ?? JSON.stringify(input.event);
        if (typeof body !== 'string')
          throw new TypeError(
            `append: event ${index} (${input.event.id}) is not JSON-serialisable`,
          );
        const bytes = utf8BytesOver(body, maxEventBytes);
        if (bytes !== undefined)
          throw new EventTooLargeError({
            index,
            id: input.event.id,
            bytes,
            limit: maxEventBytes,
            limitSource: 'events.maxEventBytes',
          });
        encoded.push({
          tenant: input.tenant,
          topic: input.topic,
          partitionKey: input.partitionKey,
          dedupeKey: input.dedupeKey,
          eventId: input.event.id,
          body,
        });
      }
      if (batch.length === 0) return [];
      return committer.submit({ inputs: batch, encoded });
    },

    read: (readOptions: ReadOptions): Promise<ReadPage> => run(() => reader.read(readOptions)),
    getById: (tenant: string, id: string) => run(() => reader.getById(tenant, id)),
    bounds: (): Promise<LogBounds> => run(() => reader.bounds()),

    async ensureGroup(spec: ConsumerGroupSpec, limits?: EnsureGroupLimits) {
      assertOpen();
      await writer.send({ op: 'ensureGroup', spec, ...(limits ? { limits } : {}) });
      // The group's waiting pulls were armed with its old spec: they re-arm with the new
      // one (and lease again: a new tenant or pattern may match events already appended).
      wakeups.groupChanged(spec.name);
    },
    getGroup: (name: string): Promise<ConsumerGroupInfo | undefined> => run(() => groups.get(name)),
    hasGroup: (name: string): Promise<boolean> => run(() => groups.spec(name) !== undefined),
    async listGroups(): Promise<ConsumerGroupInfo[]> {
      const list: ConsumerGroupInfo[] = [];
      for (const name of await run(() => groups.names())) {
        // Each lag count may take a scan window's work: the event loop serves requests
        // between two groups, rather than after all of them (one /metrics refresh).
        await nextTurn();
        assertOpen();
        const info = groups.get(name);
        if (info !== undefined) list.push(info); // deleted meanwhile: left out
      }
      return list;
    },
    async deleteGroup(name: string) {
      assertOpen();
      const deleted = await writer.send({ op: 'deleteGroup', name });
      if (deleted) wakeups.groupChanged(name);
      return deleted;
    },

    async pull(group, consumer, max, waitMs, signal): Promise<PulledEvent[]> {
      assertOpen();
      if (!(waitMs >= 0)) throw new RangeError(`waitMs must be >= 0, got ${waitMs}`);
      if (!Number.isSafeInteger(max) || max < 1)
        throw new RangeError(`max must be a positive integer, got ${max}`);
      const giveUpAt = performance.now() + waitMs;
      for (;;) {
        if (signal?.aborted) return [];
        // Armed before the lease is sent (wakeups.ts): an event committed after the lease's
        // transaction wakes this pull even if it comes before the pull is asleep.
        const waiter = wakeups.arm(group);
        stats.leases++;
        let listening = false;
        try {
          const rows = await writer.send({
            op: 'lease',
            group,
            consumer,
            max,
            now: clock(),
            omitBodies: recent.range(),
          });
          const remaining = giveUpAt - performance.now();
          if (rows.length > 0 || remaining <= 0) return pulled(rows);
          if (closing !== undefined || signal?.aborted) return [];
          // Sleep until the earliest lease or nack delay in the group falls due, at most. The
          // abort is listened for only now (checked just above, with no await since): a
          // listener per lease cost the router's busy pulls a few µs per event.
          const due = groups.nextDueAt(group);
          if (signal) {
            signal.addEventListener('abort', waiter.wake, { once: true });
            listening = true;
          }
          await waiter.sleep(due === undefined ? remaining : Math.min(remaining, due - clock()));
        } finally {
          waiter.disarm();
          if (listening) signal?.removeEventListener('abort', waiter.wake);
        }
        if (closing !== undefined) return [];
      }
    },

    ack: (group: string, token: string) => settle({ group, token, kind: 'ack' }),
    async nack(group: string, token: string, delayMs: number) {
      assertOpen();
      if (!Number.isFinite(delayMs) || delayMs < 0)
        throw new RangeError(`delayMs must be >= 0, got ${delayMs}`);
      const given = await writer.send({ op: 'nack', group, token, delayMs, now: clock() });
      if (given) wakeups.wakeGroup(group);
      return given;
    },
    term: (group: string, token: string) => settle({ group, token, kind: 'term' }),

    onAppend(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async applyRetention(policy: RetentionPolicy) {
      assertOpen();
      return writer.send({ op: 'retention', policy, now: clock() });
    },

    async ready() {
      if (closing !== undefined || !writer.alive()) return false;
      try {
        db.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },

    close() {
      closing ??= (async () => {
        wakeups.wakeAll();
        // The appends and acks already accepted still commit, before the thread stops.
        await Promise.all([committer.flush(), settler.flush()]);
        try {
          await writer.close();
        } finally {
          db.close();
        }
      })();
      return closing;
    },
  };
}
