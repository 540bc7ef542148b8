/**
 * The router: one platform consumer group over every tenant's events. Each pulled batch is
 * matched against the active rules, one delivery row per (event, rule, target) is
 * inserted in one transaction (idempotently: a redelivered event inserts nothing twice),
 * then the batch is acked. Rows this node's dispatcher can start at once are inserted
 * leased to it and handed over; for the rest it is told which targets have new work.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { EventLog, PulledEvent } from '../backbone/event-log.ts';
import type { DeliveryStore, InsertedDeliveries, NewDelivery } from '../delivery/delivery-store.ts';
import { targetKey } from '../delivery/delivery-store.ts';
import type { Logger, RoutedLease } from '../delivery/dispatcher.ts';
import type { TargetRegistry } from '../delivery/target-registry.ts';
import type { ActiveRules } from './active-rules.ts';
import { deliveryEventKey } from './event-key.ts';
import { destinationOf } from './validate-rule.ts';

/**
 * The router's group. Tenant groups are named `<tenant>/<name>` (consumer-group routes),
 * so a name without `/` can never be taken by a tenant.
 */
export const ROUTER_GROUP = 'portico:router';

export type RouterOptions = {
  log: EventLog;
  rules: ActiveRules;
  deliveries: DeliveryStore;
  registry: TargetRegistry;
  /** Told after each committed batch which targets got work it did not lease (below). */
  onRouted: (targets: { key: string; kind: string }[]) => void;
  /** Leases routed deliveries to this node's dispatcher as they are inserted (Dispatcher.leaseRouted). */
  leaseRouted?: (rows: NewDelivery[]) => RoutedLease;
  metrics: Registry;
  logger: Logger;
  /** This node's consumer name in the group. */
  consumer: string;
  batchSize?: number;
  /** Long-poll wait per pull. Default 1000 ms. */
  pullWaitMs?: number;
  /** An event pulled and not acked is offered again after this long. Default 60 s. */
  ackWaitMs?: number;
  /** After a failed batch, wait this long. Default 1000 ms. */
  errorBackoffMs?: number;
  clock?: () => number;
};

export class Router {
  readonly #o: Required<Omit<RouterOptions, 'clock' | 'leaseRouted'>> &
    Pick<RouterOptions, 'leaseRouted'> & { clock: () => number };
  readonly #matches: Counter<'rule'>;
  readonly #matchSeconds: Histogram;
  readonly #unroutable: Counter<'tenant'>;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: RouterOptions) {
    this.#o = {
      batchSize: 100,
      pullWaitMs: 1000,
      ackWaitMs: 60_000,
      errorBackoffMs: 1000,
      clock: Date.now,
      ...options,
    };
    this.#matches = new Counter({
      name: 'portico_rule_matches_total',
      help: 'Events matched, by rule id',
      labelNames: ['rule'],
      registers: [options.metrics],
    });
    this.#matchSeconds = new Histogram({
      name: 'portico_rule_match_seconds',
      help: 'Time to match one event against every active rule',
      buckets: [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025],
      registers: [options.metrics],
    });
    this.#unroutable = new Counter({
      name: 'portico_router_unroutable_events_total',
      help: 'Events terminated unrouted because the state store refuses their deliveries, by tenant',
      labelNames: ['tenant'],
      registers: [options.metrics],
    });
  }

  async start(): Promise<void> {
    // First start: from the end of the log (rules route what arrives from now on). Later
    // starts keep the group's position, so nothing routed-but-unacked is lost.
    await this.#o.log.ensureGroup({
      name: ROUTER_GROUP,
      ackWaitMs: this.#o.ackWaitMs,
      maxDeliver: 0,
      startAt: 'end',
    });
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { log, rules, logger } = this.#o;
    while (!this.#stop.signal.aborted) {
      let batch: PulledEvent[] = [];
      try {
        await rules.refreshIfStale();
        batch = await this.#pull();
        if (batch.length > 0) await this.#route(batch);
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        logger.error(
          { err: error, events: batch.length },
          'routing: a batch failed; it will be offered again',
        );
        await Promise.allSettled(
          batch.map((m) => log.nack(ROUTER_GROUP, m.token, this.#o.errorBackoffMs)),
        );
        await sleep(this.#o.errorBackoffMs, this.#stop.signal);
      }
    }
  }

  /** A pull that shutdown ends at once; what it leased just before is given back. */
  async #pull(): Promise<PulledEvent[]> {
    const { log, consumer, batchSize, pullWaitMs } = this.#o;
    const signal = this.#stop.signal;
    const pulled = await log.pull(ROUTER_GROUP, consumer, batchSize, pullWaitMs, signal);
    if (!signal.aborted) return pulled;
    await Promise.all(pulled.map((m) => log.nack(ROUTER_GROUP, m.token, 0))).catch(() => undefined);
    return [];
  }

  /**
   * The batch's insert was refused because of some value in it (events stored before the
   * edge checked them, or a limit it does not know): each event's rows go on their own,
   * and an event whose rows are refused is logged and terminated instead of blocking the
   * router forever.
   */
  async #routeOneByOne(batch: PulledEvent[], rows: NewDelivery[], starts: number[]) {
    const { deliveries, log, logger } = this.#o;
    for (const [i, entry] of batch.entries()) {
      try {
        await deliveries.insertBatch(rows.slice(starts[i], starts[i + 1]), this.#o.clock());
      } catch (error) {
        if (!isRefusedValue(error)) throw error;
        logger.error(
          { err: error, position: entry.position, tenant: entry.tenant },
          "routing: the state store refuses this event's deliveries; it is not routed",
        );
        this.#unroutable.inc({ tenant: entry.tenant });
        await log.term(ROUTER_GROUP, entry.token);
        continue;
      }
      await log.ack(ROUTER_GROUP, entry.token);
    }
  }

  async #route(batch: PulledEvent[]): Promise<void> {
    const { rules, registry, deliveries, log } = this.#o;
    const rows: NewDelivery[] = [];
    /** Where each event's rows start in `rows` (and end: the next event's start). */
    const starts: number[] = [];
    for (const entry of batch) {
      starts.push(rows.length);
      const started = performance.now();
      const matched = rules.match(entry);
      this.#matchSeconds.observe((performance.now() - started) / 1000);
      if (matched.length === 0) continue;
      const event = entry.event;
      const eventKey = deliveryEventKey(entry);
      const partitionKey =
        typeof event['partitionkey'] === 'string' ? event['partitionkey'] : event.tenantid;
      for (const rule of matched) {
        this.#matches.inc({ rule: rule.id });
        rule.targets.forEach((target, index) => {
          const ref = destinationOf(target, registry);
          rows.push({
            eventKey,
            ruleId: rule.id,
            ruleName: rule.name,
            targetIndex: index,
            owner: rule.owner,
            tenant: event.tenantid,
            kind: target.kind,
            ref,
            target,
            ordered: target.ordered === true,
            partitionKey,
            eventPosition: entry.position,
            event,
          });
        });
      }
    }
    const lease = rows.length > 0 ? this.#o.leaseRouted?.(rows) : undefined;
    let inserted: InsertedDeliveries | undefined;
    try {
      inserted = await deliveries.insertBatch(rows, this.#o.clock());
    } catch (error) {
      lease?.cancel();
      if (!isRefusedValue(error)) throw error;
    }
    if (inserted) {
      lease?.accept(inserted.leased);
      // Acked only once the deliveries are durable: a crash before this point re-offers the
      // batch, and the unique delivery identity makes routing it again a no-op.
      await Promise.all(batch.map((m) => log.ack(ROUTER_GROUP, m.token)));
    } else await this.#routeOneByOne(batch, rows, starts);
    const touched = new Map<string, string>();
    for (const row of rows)
      if (!row.lease) touched.set(targetKey(row.owner, row.kind, row.ref), row.kind);
    if (touched.size > 0) this.#o.onRouted([...touched].map(([key, kind]) => ({ key, kind })));
  }
}

/**
 * PostgreSQL refuses a value for good (SQLSTATE class 22, data exception: U+0000 in text,
 * a number out of range; class 54, program limit exceeded: an index entry over ~2.7 kB).
 * Retrying the batch cannot help, and would hold every later event back.
 */
function isRefusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)[0-9A-Z]{3}$/.test(code);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
