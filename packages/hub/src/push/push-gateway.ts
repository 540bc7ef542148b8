/**
 * The push gateway: every open connection on this node, the subscription index, per-tenant
 * limits, live dispatch from the event log, heartbeats and the shutdown drain. Transports
 * and HTTP/WS endpoints sit outside; they call open / subscribe / unsubscribe / refresh.
 *
 * Live path, per run of appended entries with one tenant and topic: the index yields the
 * matching subscriptions of the tenant; matches are grouped per connection (a stamp on the
 * connection, no map); content filters are evaluated once per distinct filter and event;
 * each entry is encoded once (EncodedEvent) and each connection appends the shared frames
 * to its output chain. At the
 * end of the append batch each connection writes one Buffer, shared by every connection
 * that was sent the same frames (output-chain.ts).
 */
import { randomUUID } from 'node:crypto';
import type { EventLog, LogEntry } from '../backbone/event-log.ts';
import { hasScope, type Principal } from '../auth/principal.ts';
import { compileTopicPattern } from '../events/topic.ts';
import { FilterCache, type ContentFilter } from './content-filter.ts';
import { EncodedEvent } from './encoded-event.ts';
import { OutputChain } from './output-chain.ts';
import { PushConnection, type ConnectionHost } from './push-connection.ts';
import { PushError } from './push-error.ts';
import type { PushStats } from './push-stats.ts';
import { ReplayJob } from './replay-job.ts';
import { SubscriptionIndex } from './subscription-index.ts';
import type { SubscriptionSpec } from './subscription-spec.ts';
import type { Subscription } from './subscription.ts';
import { CloseReason, type Transport } from './transport.ts';

export type PushLimits = {
  heartbeatMs: number;
  maxQueueBytes: number;
  maxConnectionsPerTenant: number;
  maxSubscriptionsPerTenant: number;
  maxSubscriptionsPerConnection: number;
  /** Events per replay read. */
  replayPageSize: number;
};

type Logger = {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
};

export type PushGatewayOptions = {
  log: EventLog;
  limits: PushLimits;
  stats: PushStats;
  logger?: Logger;
  now?: () => number;
};

type TenantUsage = { connections: number; subscriptions: number };

export class PushGateway implements ConnectionHost {
  readonly stats: PushStats;
  readonly maxQueueBytes: number;
  readonly limits: PushLimits;
  readonly #log: EventLog;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #connections = new Map<string, PushConnection>();
  readonly #tenants = new Map<string, TenantUsage>();
  readonly #index = new SubscriptionIndex();
  readonly #filters = new FilterCache();
  #stopping: Promise<void> | undefined;
  #stopListening: (() => void) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #stamp = 0;
  #batch = 0;

  constructor(options: PushGatewayOptions) {
    this.#log = options.log;
    this.limits = options.limits;
    this.maxQueueBytes = options.limits.maxQueueBytes;
    this.stats = options.stats;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#stopListening ??= this.#log.onAppend((entries) => this.dispatch(entries));
    this.#heartbeat ??= setInterval(() => this.#beat(), this.limits.heartbeatMs);
    this.#heartbeat.unref();
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Distinct compiled content filters currently held (shared between subscriptions). */
  get filterCount(): number {
    return this.#filters.size;
  }

  /** The newest position in the log: a client that connects with it as `from` misses nothing after now. */
  async logEnd(): Promise<number> {
    return (await this.#log.bounds()).last;
  }

  /** Bytes queued on all connections right now (for the metrics scrape). */
  queuedBytes(): number {
    let total = 0;
    for (const connection of this.#connections.values())
      total += connection.transport.queuedBytes();
    return total;
  }

  /**
   * Throws unless a connection of this principal with `subscriptions` initial subscriptions
   * would be accepted. Lets an endpoint refuse with a clean HTTP error before it commits to
   * a stream or a WebSocket handshake.
   */
  precheck(principal: Principal, subscriptions = 0): void {
    if (this.#stopping)
      throw new PushError('unavailable', 'the hub is shutting down; reconnect shortly');
    if (!hasScope(principal, 'events:read'))
      throw new PushError('forbidden', 'streaming needs the scope "events:read"');
    const usage = this.#tenants.get(principal.tenant);
    if ((usage?.connections ?? 0) >= this.limits.maxConnectionsPerTenant)
      throw new PushError(
        'limit',
        `tenant "${principal.tenant}" already has ${this.limits.maxConnectionsPerTenant} push connections (the limit)`,
      );
    this.#checkSubscriptionLimits(principal.tenant, subscriptions);
  }

  /** Registers a connection on `transport`. */
  open(principal: Principal, transport: Transport): PushConnection {
    this.precheck(principal);
    const connection = new PushConnection({
      id: randomUUID(),
      principal,
      transport,
      host: this,
      now: this.#now,
    });
    this.#connections.set(connection.id, connection);
    this.#usage(principal.tenant).connections++;
    this.stats.connections[transport.kind]++;
    return connection;
  }

  /**
   * The connection, if it exists, is of the `transport` kind and belongs to this
   * principal's tenant and subject. Anyone else gets the same not-found, so connection ids
   * cannot be probed across tenants, users or transports.
   */
  find(connectionId: string, principal: Principal, transport: Transport['kind']): PushConnection {
    const connection = this.#connections.get(connectionId);
    if (
      !connection ||
      connection.closed ||
      connection.transport.kind !== transport ||
      connection.tenant !== principal.tenant ||
      connection.subject !== principal.subject
    )
      throw new PushError('not-found', `no open push connection "${connectionId}" for this caller`);
    return connection;
  }

  /**
   * Adds subscriptions (all or none). With `from`, they replay the log after that position
   * first; with `last`, the last N events that match any of them; `primary` marks the
   * connect-time group whose position SSE ids track.
   */
  subscribe(
    connection: PushConnection,
    specs: readonly SubscriptionSpec[],
    options: { from?: number; last?: number; primary?: boolean } = {},
  ): Subscription[] {
    if (connection.closed) throw new PushError('not-found', 'the connection is closed');
    if (!hasScope(connection.principal, 'events:read'))
      throw new PushError('forbidden', 'subscribing needs the scope "events:read"');
    const ids = new Set<string>();
    for (const spec of specs) {
      if (connection.subscriptions.has(spec.id) || ids.has(spec.id))
        throw new PushError(
          'conflict',
          `subscription "${spec.id}" already exists on this connection`,
        );
      ids.add(spec.id);
    }
    if (connection.subscriptions.size + specs.length > this.limits.maxSubscriptionsPerConnection)
      throw new PushError(
        'limit',
        `a connection holds at most ${this.limits.maxSubscriptionsPerConnection} subscriptions`,
      );
    this.#checkSubscriptionLimits(connection.tenant, specs.length);

    const filters: Array<ContentFilter | undefined> = [];
    try {
      for (const spec of specs)
        filters.push(spec.filter ? this.#filters.acquire(spec.filter) : undefined);
    } catch (error) {
      for (const filter of filters) if (filter) this.#filters.release(filter);
      throw new PushError('invalid', `invalid content filter: ${(error as Error).message}`);
    }

    const subs = specs.map((spec, i): Subscription => ({
      id: spec.id,
      idList: [spec.id],
      tenant: connection.tenant,
      topic: spec.topic,
      channel: spec.channel,
      matchesTopic: compileTopicPattern(spec.topic),
      filter: filters[i],
      filterPattern: spec.filter,
      connection,
      replay: undefined,
      seam: 0,
    }));
    for (const sub of subs) {
      connection.subscriptions.set(sub.id, sub);
      this.#index.add(sub);
    }
    this.#usage(connection.tenant).subscriptions += subs.length;
    this.stats.subscriptions += subs.length;

    const start =
      options.from !== undefined
        ? options.from
        : options.last !== undefined
          ? { last: options.last }
          : undefined;
    if (start !== undefined && subs.length > 0) {
      const job = new ReplayJob(connection, subs, start, options.primary ?? false, {
        log: this.#log,
        stats: this.stats,
        pageSize: this.limits.replayPageSize,
        maxBufferBytes: this.maxQueueBytes,
        maxQueuedBytes: Math.floor(this.maxQueueBytes / 2),
        resumeBelowBytes: Math.floor(this.maxQueueBytes / 4),
      });
      if (job.primary) connection.primaryReplayStarted();
      job.run().catch((error: unknown) => {
        this.#logger?.error({ err: error, connection: connection.id }, 'push replay failed');
        connection.close(
          CloseReason.replayFailed,
          'reading the event log failed; reconnect and resume',
        );
      });
    }
    return subs;
  }

  /** Removes one subscription; false if the connection has none with that id. */
  unsubscribe(connection: PushConnection, id: string): boolean {
    const sub = connection.subscriptions.get(id);
    if (!sub) return false;
    this.#release(connection, sub);
    return true;
  }

  /** Swaps the connection's credential for a fresh one of the same tenant and subject. */
  refresh(connection: PushConnection, principal: Principal): void {
    // A WebSocket refresh is answered after the token is verified, and the client may have
    // gone meanwhile: re-arming the expiry timer would hold the closed connection until then.
    if (connection.closed) throw new PushError('not-found', 'the connection is closed');
    if (principal.tenant !== connection.tenant || principal.subject !== connection.subject)
      throw new PushError('forbidden', 'the new token must be for the same tenant and subject');
    if (!hasScope(principal, 'events:read'))
      throw new PushError('forbidden', 'the new token lacks the scope "events:read"');
    connection.refresh(principal, this.#now);
  }

  connectionClosed(connection: PushConnection, reason: CloseReason): void {
    for (const sub of [...connection.subscriptions.values()]) this.#release(connection, sub);
    this.#connections.delete(connection.id);
    const usage = this.#tenants.get(connection.tenant);
    if (usage && --usage.connections <= 0 && usage.subscriptions <= 0)
      this.#tenants.delete(connection.tenant);
    this.stats.connections[connection.transport.kind]--;
    this.stats.disconnect(reason);
    if (reason !== CloseReason.clientClosed && reason !== CloseReason.shutdown)
      this.#logger?.info(
        {
          connection: connection.id,
          tenant: connection.tenant,
          transport: connection.transport.kind,
          reason,
        },
        'push connection closed by the hub',
      );
  }

  /** Delivers freshly appended entries (the log's onAppend listener). */
  dispatch(entries: readonly LogEntry[]): void {
    // Every connection this batch touches collects its messages until the end of the
    // batch, so a burst of events leaves in one write per connection instead of one per
    // event, and connections sent the same messages share one joined Buffer (OutputChain).
    const inBatch: PushConnection[] = [];
    const batch = ++this.#batch;
    const root = new OutputChain();
    try {
      // Consecutive entries of one tenant and topic (a run) match the same subscriptions
      // (content filters aside): the index is walked once per run, and each connection
      // then takes the whole run while its state is at hand.
      for (let from = 0; from < entries.length;) {
        const { tenant, topic } = entries[from]!;
        let to = from + 1;
        while (
          to < entries.length &&
          entries[to]!.topic === topic &&
          entries[to]!.tenant === tenant
        )
          to++;
        this.#dispatchRun(entries, from, to, batch, root, inBatch);
        from = to;
      }
    } finally {
      for (const connection of inBatch) connection.endBatch();
    }
  }

  #dispatchRun(
    entries: readonly LogEntry[],
    from: number,
    to: number,
    batch: number,
    root: OutputChain,
    inBatch: PushConnection[],
  ): void {
    const { tenant, topic } = entries[from]!;
    const stamp = ++this.#stamp;
    const touched: PushConnection[] = [];
    this.#index.forEachMatch(tenant, topic, (sub) => {
      const connection = sub.connection;
      if (connection.stamp !== stamp) {
        connection.stamp = stamp;
        connection.matched.length = 0;
        connection.matchedFiltered = false;
        touched.push(connection);
      }
      connection.matched.push(sub);
      if (sub.filter) connection.matchedFiltered = true;
    });
    if (touched.length === 0) return;

    const count = to - from;
    const encoded: EncodedEvent[] = [];
    for (let k = 0; k < count; k++) encoded.push(new EncodedEvent(entries[from + k]!));
    // Each distinct filter is evaluated at most once per event, whatever its subscribers.
    let verdicts: Map<ContentFilter, Array<boolean | undefined>> | undefined;
    const passes = (filter: ContentFilter, k: number): boolean => {
      verdicts ??= new Map();
      let row = verdicts.get(filter);
      if (!row) verdicts.set(filter, (row = new Array<boolean | undefined>(count)));
      return (row[k] ??= safeMatch(filter, entries[from + k]!));
    };
    const scratch: Subscription[] = [];
    for (const connection of touched) {
      if (connection.batch !== batch) {
        connection.batch = batch;
        connection.beginBatch(root);
        inBatch.push(connection);
      }
      const subs = connection.matched;
      for (let k = 0; k < count && !connection.closed; k++) {
        if (!connection.matchedFiltered) {
          connection.deliverLive(encoded[k]!, subs);
          continue;
        }
        scratch.length = 0;
        for (const sub of subs) if (!sub.filter || passes(sub.filter, k)) scratch.push(sub);
        if (scratch.length > 0) connection.deliverLive(encoded[k]!, scratch);
      }
    }
  }

  /**
   * Stops taking connections and live events, tells every client to reconnect (SSE
   * `reconnect` event, WebSocket close 1012) and resolves when their sockets are gone:
   * promptly for clients that read, after the end grace for those that do not.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopListening?.();
      clearInterval(this.#heartbeat);
      const connections = [...this.#connections.values()];
      const gone = connections.map(
        (connection) => new Promise<void>((resolve) => connection.transport.onClose(resolve)),
      );
      for (const connection of connections)
        connection.close(CloseReason.shutdown, 'the hub is restarting; reconnect and resume');
      await Promise.all(gone);
    })();
    return this.#stopping;
  }

  #release(connection: PushConnection, sub: Subscription): void {
    connection.subscriptions.delete(sub.id);
    this.#index.remove(sub);
    sub.replay?.remove(sub);
    if (sub.filter) this.#filters.release(sub.filter);
    const usage = this.#tenants.get(connection.tenant);
    if (usage) usage.subscriptions--;
    this.stats.subscriptions--;
  }

  #checkSubscriptionLimits(tenant: string, adding: number): void {
    const usage = this.#tenants.get(tenant);
    if ((usage?.subscriptions ?? 0) + adding > this.limits.maxSubscriptionsPerTenant)
      throw new PushError(
        'limit',
        `tenant "${tenant}" would exceed ${this.limits.maxSubscriptionsPerTenant} push subscriptions (the limit)`,
      );
    if (adding > this.limits.maxSubscriptionsPerConnection)
      throw new PushError(
        'limit',
        `a connection holds at most ${this.limits.maxSubscriptionsPerConnection} subscriptions`,
      );
  }

  #usage(tenant: string): TenantUsage {
    let usage = this.#tenants.get(tenant);
    if (!usage) this.#tenants.set(tenant, (usage = { connections: 0, subscriptions: 0 }));
    return usage;
  }

  #beat(): void {
    for (const connection of this.#connections.values())
      if (!connection.transport.heartbeat())
        connection.close(CloseReason.heartbeatTimeout, 'no answer to the last ping');
  }
}

/** A filter that throws on some odd event must not break delivery to everyone else. */
function safeMatch(filter: ContentFilter, entry: LogEntry): boolean {
  try {
    return filter.matches(entry.event);
  } catch {
    return false;
  }
}
