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
   * embedded log counts them up to 10,000 (a larger backlog reads as 10,000).
   */
  pending: number;
  /** Events delivered and not yet acknowledged or terminated. */
  inflight: number;
};

export interface EventLog {
  /**
   * Appends atomically (all or nothing) and resolves only when the batch is durable.
   * Concurrent calls may be group-committed together.
   */
  append(batch: AppendInput[]): Promise<AppendResult[]>;
  read(options: ReadOptions): Promise<LogEntry[]>;
  /** One event by CloudEvents id within a tenant (the newest if several sources used it). */
  getById(tenant: string, id: string): Promise<LogEntry | undefined>;
  bounds(): Promise<LogBounds>;

  /** Creates the group if absent; an existing group keeps its cursor (spec may be updated). */
  ensureGroup(spec: ConsumerGroupSpec): Promise<void>;
  getGroup(name: string): Promise<ConsumerGroupInfo | undefined>;
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
