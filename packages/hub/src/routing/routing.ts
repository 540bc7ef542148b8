/**
 * The routing capability, as app.ts builds it: rules and their API, the router, and the
 * one delivery engine with its DLQ API and the `queue` and `push` targets. Other
 * capabilities plug target kinds in through `targets` (the webhooks capability registers
 * the `webhook` sender there).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { EventLog } from '../backbone/event-log.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import type { HubServer } from '../http/server.ts';
import { AttemptLog } from '../delivery/attempt-log.ts';
import { DeliveryStore } from '../delivery/delivery-store.ts';
import { DELIVERY_MIGRATIONS } from '../delivery/migrations.ts';
import { createDeliveryMetrics } from '../delivery/delivery-metrics.ts';
import { Dispatcher, type DispatcherOptions } from '../delivery/dispatcher.ts';
import { registerDlqRoutes } from '../delivery/dlq-routes.ts';
import { DESTINATION, LogCopyTarget } from '../delivery/log-copy-target.ts';
import { TargetRegistry, type KindSettings } from '../delivery/target-registry.ts';
import { ActiveRules } from './active-rules.ts';
import { ROUTING_MIGRATIONS } from './migrations.ts';
import { Router, type RouterOptions } from './router.ts';
import { registerRuleRoutes } from './rule-routes.ts';
import { RuleStore } from './rule-store.ts';
import { DEFAULT_RULE_LIMITS, type RuleLimits } from './rule.ts';

export type RoutingOptions = {
  log: EventLog;
  db: SqlDatabase;
  metrics: Registry;
  server: HubServer;
  /** The environment segment of topics (queue copies go to `portico.<env>.queue.<name>`). */
  env: string;
  limits?: Partial<RuleLimits>;
  /**
   * Per target kind: the operator's retry policy, timeout and concurrency
   * (`routing.targets` in the config). They win over what the kind registers.
   */
  kinds?: Record<string, KindSettings>;
  router?: Pick<RouterOptions, 'batchSize' | 'pullWaitMs' | 'ackWaitMs' | 'errorBackoffMs'>;
  dispatcher?: Pick<DispatcherOptions, 'discoveryIntervalMs' | 'leaseMarginMs' | 'errorBackoffMs'>;
  /** How often another node's rule change is looked for. Default 1000 ms. */
  ruleCheckIntervalMs?: number;
  retention?: {
    /** Delivered rows are kept this long (routing stays idempotent for as long). Default 24 h. */
    keepDeliveredMs?: number;
    /** DLQ entries not replayed are deleted after this long. Default 14 days. */
    keepDeadMs?: number;
    intervalMs?: number;
  };
};

export type Routing = {
  /** Target kinds and their senders: register a `DeliveryTarget` per kind here. */
  targets: TargetRegistry;
  /** Every delivery attempt of every kind (a webhooks API lists an endpoint's attempts here). */
  attempts: AttemptLog;
  /**
   * For capabilities that manage rules of their own (a webhook endpoint is a rule with a
   * webhook target): write through `store`, then `reload()` so this node routes by it at once.
   */
  rules: { store: RuleStore; reload(): Promise<void> };
  /**
   * The deliveries table (DLQ listing and replay of a capability's own targets) and
   * `notify`, which makes the dispatcher look at targets with new due work now.
   */
  deliveries: {
    store: DeliveryStore;
    notify(targets: Iterable<{ key: string; kind: string }>): void;
  };
  /** Loads the rules, then starts the router and the dispatcher. */
  start(): Promise<void>;
  /** Stops routing and delivering; in-flight attempts are aborted and given back. Idempotent. */
  stop(): Promise<void>;
};

const WEBHOOK_ENDPOINT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Migrates the tables, registers the HTTP routes (call before the server is ready). */
export async function createRouting(options: RoutingOptions): Promise<Routing> {
  const { log, db, metrics, server, env } = options;
  await db.migrate([...ROUTING_MIGRATIONS, ...DELIVERY_MIGRATIONS]);
  const logger = server.log;
  const limits: RuleLimits = { ...DEFAULT_RULE_LIMITS, ...options.limits };

  const targets = new TargetRegistry(options.kinds);
  const destinationProblem = (what: string) => (ref: string) =>
    DESTINATION.test(ref)
      ? undefined
      : `a ${what} name is lowercase letters, digits, "_" or "-" (at most 64), starting with a letter or digit`;
  // Local appends: failures mean the log is briefly unavailable, so retry soon and long.
  const localRetry = { baseDelayMs: 200, maxDelayMs: 30_000, maxAttempts: 50, maxAgeMs: 3_600_000 };
  targets.register(
    'queue',
    new LogCopyTarget({ log, env, kind: 'queue' }),
    { retry: localRetry, timeoutMs: 10_000, concurrency: 4 },
    {
      refField: 'queue',
      refProblem: destinationProblem('queue'),
      description: `the queue name; consume it with a consumer group whose topic is "portico.${env}.queue.<name>"`,
    },
  );
  targets.register(
    'push',
    new LogCopyTarget({ log, env, kind: 'push' }),
    { retry: localRetry, timeoutMs: 10_000, concurrency: 4 },
    {
      refField: 'channel',
      refProblem: destinationProblem('channel'),
      description: `the push channel; the push gateway delivers topic "portico.${env}.push.<channel>"`,
    },
  );
  // Known to rules now; its sender comes with the webhooks capability.
  targets.define({
    kind: 'webhook',
    refField: 'endpointId',
    refProblem: (ref) =>
      WEBHOOK_ENDPOINT_ID.test(ref)
        ? undefined
        : 'an endpoint id is 1 to 128 letters, digits, "_", ".", ":" or "-"',
    description: 'the webhook endpoint id',
  });

  const ruleStore = new RuleStore(db);
  const active = new ActiveRules({
    store: ruleStore,
    logger,
    ...(options.ruleCheckIntervalMs !== undefined
      ? { checkIntervalMs: options.ruleCheckIntervalMs }
      : {}),
  });
  const deliveries = new DeliveryStore(db);
  const dispatcher = new Dispatcher({
    store: deliveries,
    registry: targets,
    metrics: createDeliveryMetrics(metrics, deliveries),
    logger,
    ...options.dispatcher,
  });
  const router = new Router({
    log,
    rules: active,
    deliveries,
    registry: targets,
    onRouted: (touched) => dispatcher.notify(touched),
    leaseRouted: (rows) => dispatcher.leaseRouted(rows),
    metrics,
    logger,
    consumer: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    ...options.router,
  });

  registerRuleRoutes(server, { store: ruleStore, active, registry: targets, limits });
  const attempts = new AttemptLog(db);
  registerDlqRoutes(server, {
    store: deliveries,
    attempts,
    onReplayed: (touched) => dispatcher.notify(touched),
  });

  const keepDeliveredMs = options.retention?.keepDeliveredMs ?? 24 * 3_600_000;
  const keepDeadMs = options.retention?.keepDeadMs ?? 14 * 24 * 3_600_000;
  let retention: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;

  return {
    targets,
    attempts,
    rules: { store: ruleStore, reload: () => active.reload() },
    deliveries: { store: deliveries, notify: (touched) => dispatcher.notify(touched) },
    async start() {
      const unknown = targets.unknownSettings();
      if (unknown.length > 0)
        logger.warn(
          { kinds: unknown, known: targets.kinds().map((k) => k.kind) },
          'routing: routing.targets names target kinds nothing defines (yet); their settings are unused',
        );
      await active.reload();
      await dispatcher.start();
      await router.start();
      retention = setInterval(() => {
        const now = Date.now();
        deliveries
          .purge(now - keepDeliveredMs, now - keepDeadMs)
          .catch((err: unknown) =>
            logger.error({ err }, 'delivery: purging old deliveries failed'),
          );
      }, options.retention?.intervalMs ?? 60_000);
      retention.unref();
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(retention);
        await router.stop();
        await dispatcher.stop();
      })();
      return stopping;
    },
  };
}
