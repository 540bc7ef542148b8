/**
 * The embedded event log: `EventLog` on one `node:sqlite` database in WAL mode.
 *
 * All work runs on one connection on the calling thread; SQLite calls are synchronous,
 * so each operation is atomic with respect to the others in this process. Appends are
 * group-committed (see group-commit.ts) so a burst of callers costs one fsync.
 */
import type {
  AppendInput,
  AppendResult,
  ConsumerGroupInfo,
  ConsumerGroupSpec,
  EventLog,
  LogBounds,
  LogEntry,
  PulledEvent,
  ReadOptions,
  RetentionPolicy,
} from '../event-log.ts';
import { appendInputProblem } from '../append-input.ts';
import { createAppender } from './appender.ts';
import { createConsumerGroups } from './consumer-groups.ts';
import { registerTopicMatcher } from './event-filter.ts';
import { createEventReader } from './event-reader.ts';
import { createGroupCommitter, type Outcome } from './group-commit.ts';
import { createRetention } from './retention.ts';
import { openLogDatabase } from './schema.ts';
import { createStatementCache } from './statement-cache.ts';
import { createDurabilitySwitch, writeTransaction } from './transactions.ts';
import { createWakeups } from './wakeups.ts';

export type SqliteEventLogOptions = {
  /** Database file (created if missing); its directory must exist. */
  path: string;
  /** Partition count for `hash(partitionKey) mod partitions`. Default 16. */
  partitions?: number;
  /** How long a dedupe key makes a second append a duplicate. Default 24 h. */
  dedupeWindowMs?: number;
  /** Epoch milliseconds; injectable for tests. Default `Date.now`. */
  clock?: () => number;
};

export type SqliteEventLogStats = {
  /** Append transactions committed (one per group commit). */
  commits: number;
  /** `append` calls that reached a commit (successful or not). */
  appendCalls: number;
  /** Events stored (duplicates excluded). */
  events: number;
  duplicates: number;
};

export type SqliteEventLog = EventLog & {
  readonly path: string;
  stats(): SqliteEventLogStats;
};

type Settlement = { group: string; token: string; kind: 'ack' | 'term' };

const DEFAULT_PARTITIONS = 16;
const DEFAULT_DEDUPE_WINDOW_MS = 24 * 60 * 60 * 1000;

export function openSqliteEventLog(options: SqliteEventLogOptions): SqliteEventLog {
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const dedupeWindowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const clock = options.clock ?? Date.now;
  if (!Number.isSafeInteger(partitions) || partitions < 1)
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  if (!(dedupeWindowMs >= 0))
    throw new RangeError(`dedupeWindowMs must be >= 0, got ${dedupeWindowMs}`);

  const db = openLogDatabase(options.path);
  registerTopicMatcher(db);
  const setDurability = createDurabilitySwitch(db);
  const statements = createStatementCache(db);
  const appender = createAppender(db, { partitions, dedupeWindowMs, clock, setDurability });
  const reader = createEventReader(db, statements);
  const groups = createConsumerGroups(db, { clock, statements, setDurability });
  const retention = createRetention(db, { clock, dedupeWindowMs, setDurability });
  const wakeups = createWakeups();
  const listeners = new Set<(entries: LogEntry[]) => void>();
  const stats: SqliteEventLogStats = { commits: 0, appendCalls: 0, events: 0, duplicates: 0 };
  let closing: Promise<void> | undefined;

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
    wakeups.wakeAll();
  };

  const committer = createGroupCommitter<AppendInput[], AppendResult[]>((batches) => {
    const { outcomes, entries } = appender(batches);
    stats.commits++;
    stats.appendCalls += batches.length;
    for (const outcome of outcomes)
      if (outcome.ok)
        for (const result of outcome.value) {
          if (result.duplicate) stats.duplicates++;
          else stats.events++;
        }
    if (entries.length > 0) queueMicrotask(() => notify(entries));
    return outcomes satisfies Outcome<AppendResult[]>[];
  });

  // Acks and terms of the same tick share one transaction: a consumer settling a pulled
  // batch one token at a time would otherwise pay a WAL commit per event.
  const settler = createGroupCommitter<Settlement, boolean>((requests) => {
    setDurability('NORMAL');
    return writeTransaction(db, () =>
      requests.map((r): Outcome<boolean> => {
        try {
          return { ok: true, value: groups[r.kind](r.group, r.token) };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
  });
  const settle = async (request: Settlement): Promise<boolean> => {
    assertOpen();
    return settler.submit(request);
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
      for (const [index, input] of batch.entries()) {
        const problem = appendInputProblem(input);
        if (problem !== undefined) throw new TypeError(`append: event ${index}: ${problem}`);
      }
      if (batch.length === 0) return [];
      return committer.submit(batch);
    },

    read: (readOptions: ReadOptions) => run(() => reader.read(readOptions)),
    getById: (tenant: string, id: string) => run(() => reader.getById(tenant, id)),
    bounds: (): Promise<LogBounds> => run(() => reader.bounds()),

    ensureGroup: (spec: ConsumerGroupSpec) => run(() => groups.ensure(spec)),
    getGroup: (name: string): Promise<ConsumerGroupInfo | undefined> => run(() => groups.get(name)),
    listGroups: (): Promise<ConsumerGroupInfo[]> => run(() => groups.list()),
    deleteGroup: (name: string) =>
      run(() => {
        const deleted = groups.delete(name);
        if (deleted) wakeups.wakeAll();
        return deleted;
      }),

    async pull(group, consumer, max, waitMs): Promise<PulledEvent[]> {
      assertOpen();
      if (!(waitMs >= 0)) throw new RangeError(`waitMs must be >= 0, got ${waitMs}`);
      const giveUpAt = performance.now() + waitMs;
      for (;;) {
        const pulled = groups.lease(group, consumer, max);
        const remaining = giveUpAt - performance.now();
        if (pulled.length > 0 || remaining <= 0) return pulled;
        // Sleep until the earliest lease or nack delay in the group falls due, at most.
        const due = groups.nextDueAt(group);
        await wakeups.sleep(due === undefined ? remaining : Math.min(remaining, due - clock()));
        if (closing !== undefined) return [];
      }
    },

    ack: (group: string, token: string) => settle({ group, token, kind: 'ack' }),
    nack: (group: string, token: string, delayMs: number) =>
      run(() => {
        const given = groups.nack(group, token, delayMs);
        if (given) wakeups.wakeAll();
        return given;
      }),
    term: (group: string, token: string) => settle({ group, token, kind: 'term' }),

    onAppend(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    applyRetention: (policy: RetentionPolicy) => run(() => retention(policy)),

    async ready() {
      if (closing !== undefined) return false;
      try {
        db.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },

    close() {
      closing ??= (async () => {
        committer.flush(); // the appends already accepted still commit
        settler.flush();
        wakeups.wakeAll();
        db.close();
      })();
      return closing;
    },
  };
}
