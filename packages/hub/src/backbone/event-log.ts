/**
 * The event log: Portico's durable backbone. Two engines implement it behind this one
 * interface: the embedded SQLite log (backbone/sqlite) and NATS JetStream (backbone/nats).
 *
 * Positions are a single, totally ordered sequence over the whole log (JetStream's stream
 * sequence, SQLite's rowid). A partition is hash(partitionKey) mod N; since positions are
 * global, order per partition key is kept by construction.
 */

/** A CloudEvent as stored: the structured-mode JSON object, with Portico's extensions stamped. */
export type CloudEventRecord = {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  tenantid: string;
  correlationid: string;
  traceparent: string;
  recordedtime: string;
  datacontenttype?: string;
  dataschema?: string;
  subject?: string;
  data?: unknown;
  /** Base64 data for non-JSON payloads (CloudEvents JSON format `data_base64`). */
  data_base64?: string;
  [extension: string]: unknown;
};

export type AppendInput = {
  tenant: string;
  /** `domain.<env>.entity.action` */
  topic: string;
  partitionKey: string;
  /** Dedupe identity: `source` + `id`. A second append inside the window is a duplicate. */
  dedupeKey: string;
  event: CloudEventRecord;
  /**
   * `JSON.stringify(event)`, when the caller already has it (ingest measures each event's
   * size with it): an engine may store this text instead of serialising the event again.
   */
  body?: string;
};

export type AppendResult = {
  id: string;
  topic: string;
  partition: number;
  /** For a duplicate: the position of the original event. */
  position: number;
  duplicate: boolean;
};

export type LogEntry = {
  position: number;
  partition: number;
  tenant: string;
  topic: string;
  event: CloudEventRecord;
  /** Epoch milliseconds when the log accepted the event. */
  appendedAt: number;
};

export type ReadOptions = {
  /** Only this tenant's events; undefined = all tenants (platform-level readers only). */
  tenant?: string;
  /** NATS-style subject pattern over topics: `*` one segment, `>` the rest. */
  topicPattern?: string;
  /** Exclusive lower bound; 0 = from the beginning. */
  after: number;
  limit: number;
};

/**
 * One page of a read. A read may stop before `limit` matches (the embedded log examines at
 * most a bounded number of rows per read, so a selective pattern cannot hold the event loop
 * for a whole backlog): `next` then moves past the rows it examined without a match, and
 * `end` is false. Page on with `after: next` until `end`; never take a short page for the end.
 */
export type ReadPage = {
  /** Matching events after `after`, oldest first, at most `limit`. */
  entries: LogEntry[];
  /**
   * The `after` of the next page: every matching event in (after, next] is in `entries`.
   * At least the last entry's position; beyond it when rows after it were examined too.
   */
  next: number;
  /**
   * True when nothing after `next` matched up to the log's end as it was when the read
   * began (a later append is not in this page). False when `limit` was reached or the read
   * stopped early: read again from `next`.
   */
  end: boolean;
};

export type EnsureGroupLimits = {
  /**
   * Creating a group of a tenant that already has this many fails with
   * ConsumerGroupLimitError (updating an existing one never does). Platform groups (no
   * tenant) are not counted.
   */
  maxGroupsPerTenant?: number;
};

export type ConsumerGroupSpec = {
  name: string;
  /** The tenant whose events the group sees; undefined = all tenants (platform groups). */
  tenant?: string;
  topicPattern?: string;
  /** How long a pulled event stays leased before it is redelivered. */
  ackWaitMs: number;
  /** After this many deliveries without ack the event is terminated (0 = unlimited). */
  maxDeliver: number;
  /** Where a new group starts: at the beginning of the log or at its end. */
  startAt: 'beginning' | 'end';
};

export type PulledEvent = LogEntry & {
  /** Opaque handle for ack / nack / term of this delivery. */
  token: string;
  /** 1 on first delivery. */
  deliveryCount: number;
};

export type LogBounds = {
  /** Smallest position still held (0 when empty). */
  first: number;
  /** Largest position ever appended (0 when empty). */
  last: number;
};

export type RetentionPolicy = { maxAgeMs?: number; maxBytes?: number };

export type ConsumerGroupInfo = ConsumerGroupSpec & {
  /**
   * Events matching the group that have not yet been delivered the first time. The
   * embedded log counts the matches among the next 10,000 events of the group's tenant
   * (`pendingIsLowerBound` then says whether more lie beyond); JetStream counts exactly.
   */
  pending: number;
  /** True when `pending` is a lower bound: the count stopped before the log's end. */
  pendingIsLowerBound: boolean;
  /** Events delivered and not yet acknowledged or terminated. */
  inflight: number;
};

export interface EventLog {
  /**
   * Appends atomically (all or nothing) and resolves only when the batch is durable.
   * Concurrent calls may be group-committed together.
   */
  append(batch: AppendInput[]): Promise<AppendResult[]>;
  read(options: ReadOptions): Promise<ReadPage>;
  /** One event by CloudEvents id within a tenant (the newest if several sources used it). */
  getById(tenant: string, id: string): Promise<LogEntry | undefined>;
  bounds(): Promise<LogBounds>;

  /**
   * Creates the group if absent; an existing group keeps its cursor (spec may be updated).
   * Throws ConsumerGroupLimitError past `limits.maxGroupsPerTenant`.
   */
  ensureGroup(spec: ConsumerGroupSpec, limits?: EnsureGroupLimits): Promise<void>;
  /** The group with its lag (counting it is work: see `pending`). */
  getGroup(name: string): Promise<ConsumerGroupInfo | undefined>;
  /** Whether the group exists: a lookup, without `getGroup`'s lag count. */
  hasGroup(name: string): Promise<boolean>;
  /** Every group with its lag (for metrics). */
  listGroups(): Promise<ConsumerGroupInfo[]>;
  deleteGroup(name: string): Promise<boolean>;
  /**
   * Leases up to `max` events to `consumer`, waiting up to `waitMs` for the first one.
   * Redeliveries (expired leases, elapsed nacks) come before new events. Once `signal` is
   * aborted (the consumer hung up) the pull stops waiting and leases nothing more: a lease
   * taken for a consumer that is gone would spend one of the event's deliveries. What it
   * leased just before the abort is still returned (the caller gives it back).
   */
  pull(
    group: string,
    consumer: string,
    max: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<PulledEvent[]>;
  ack(group: string, token: string): Promise<boolean>;
  /** Gives the event back, to be redelivered no sooner than `delayMs` from now. */
  nack(group: string, token: string, delayMs: number): Promise<boolean>;
  /** Stops redelivery of the event for this group for good. */
  term(group: string, token: string): Promise<boolean>;

  /**
   * Calls `listener` after each durable append (for live push and long-polls). Returns an
   * unsubscribe function. Listeners must be cheap: they run on the append path.
   */
  onAppend(listener: (entries: LogEntry[]) => void): () => void;

  applyRetention(policy: RetentionPolicy): Promise<{ removed: number }>;
  /** True when the engine is reachable (for /readyz). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
