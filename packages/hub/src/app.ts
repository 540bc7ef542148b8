import { mkdirSync, readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import { resolve } from 'node:path';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { PorticoConfig } from './config/schema.ts';
import type { EventLog } from './backbone/event-log.ts';
import { openEventLog } from './backbone/open-event-log.ts';
import type { SqlDatabase } from './store/sql-database.ts';
import { openDatabase } from './store/open-database.ts';
import { openLeadership } from './cluster/open-leadership.ts';
import type { Leadership } from './cluster/leadership.ts';
import type { Authenticator } from './auth/principal.ts';
import { createOidcAuthenticator } from './auth/oidc-authenticator.ts';
import { loadOrCreateDevIssuer, type DevIssuer } from './auth/dev-issuer.ts';
import { VerifiedTokens } from './auth/verified-tokens.ts';
import { createHttpServer, type HubServer } from './http/server.ts';
import { EventIngestor } from './events/ingest-events.ts';
import { createIngestMetrics } from './events/ingest-metrics.ts';
import type { PublishCheck } from './events/publish-check.ts';
import { registerEventRoutes } from './events/event-routes.ts';
import { registerConsumerGroupRoutes } from './events/consumer-group-routes.ts';
import { registerOpsRoutes } from './telemetry/ops-routes.ts';
import { registerPush } from './push/index.ts';
import { createRouting, type Routing } from './routing/routing.ts';
import { createWebhooks, type Webhooks } from './webhooks/webhooks.ts';
import { routingOptionsFrom } from './routing/routing-config.ts';
import { createDictionary } from './dictionary/index.ts';
import { createGateway } from './gateway/index.ts';
import { createSchemaRegistry } from './registry/create-registry.ts';
import { createCatalog } from './catalog/index.ts';
import { registrySchemaLookup } from './catalog/registry-lookup.ts';

export type Hub = {
  config: PorticoConfig;
  server: HubServer;
  log: EventLog;
  /** The state store (rules, endpoints, deliveries, registry …). */
  db: SqlDatabase;
  metrics: Registry;
  /** Rules, the router and the delivery engine; target kinds are registered on `routing.targets`. */
  routing: Routing;
  /** Webhook endpoints and the `webhook` sender. */
  webhooks: Webhooks;
  /** Leader-only chores: `leadership.runAsLeader(name, chore, { intervalMs })` runs on one node. */
  leadership: Leadership;
  /** Present in development auth mode: mints tokens signed by the hub's own key. */
  devIssuer: DevIssuer | undefined;
  /** Drains in-flight work, then closes the stores. Idempotent. */
  close(): Promise<void>;
};

const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** The composition root: builds every capability from the config. No globals. */
/** Seams for tests: what the hub would otherwise take from the machine. */
export type HubHooks = {
  /** The resolver for webhook endpoint host names (default node:dns). */
  webhookLookup?: LookupFunction;
  /** Wraps the configured authenticator (tests: an identity provider that answers late). */
  authenticator?: (configured: Authenticator) => Authenticator;
  /** Where the hub's log lines go (default standard output). */
  logStream?: { write(line: string): void };
};

export async function buildHub(config: PorticoConfig, hooks: HubHooks = {}): Promise<Hub> {
  // What is open so far, closed in reverse if start-up fails part-way: a store pool or the
  // log's writer thread left open would keep the process alive after the error is printed,
  // so a supervisor would never see the start fail.
  const opened: Array<() => Promise<unknown>> = [];
  try {
    return await assembleHub(config, hooks, (close) => opened.push(close));
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => undefined);
    throw error;
  }
}

async function assembleHub(
  config: PorticoConfig,
  hooks: HubHooks,
  opened: (close: () => Promise<unknown>) => void,
): Promise<Hub> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });

  const auth = await buildAuth(config, dataDir);
  const devIssuer = auth.devIssuer;
  // A token's signature is checked once, then remembered until its exp (at most a minute).
  const authenticator = new VerifiedTokens(
    hooks.authenticator ? hooks.authenticator(auth.authenticator) : auth.authenticator,
  );
  // Embedded (SQLite) or scale-out (PostgreSQL, NATS JetStream), as configured.
  const db = openDatabase(config.store, { dataDir });
  opened(() => db.close());
  const log = await openEventLog(config, { dataDir, db });
  opened(() => log.close());

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'portico_process_' });
  const leadership = openLeadership(config.store, { registry: metrics });
  opened(() => leadership.stop());
  const shutdown = new AbortController();

  const server = await createHttpServer({
    authenticator,
    logLevel: config.logLevel,
    ...(hooks.logStream ? { logStream: hooks.logStream } : {}),
    bodyLimit: config.events.maxRequestBytes,
    version: VERSION,
    cors: config.http.cors,
  });
  opened(() => server.close());
  // Capabilities that vet events at publish (schema validation, policies) add their checks here.
  const publishChecks: PublishCheck[] = [];
  const schemaRegistry = await createSchemaRegistry({
    db,
    server,
    metrics,
    config: config.registry,
  });
  publishChecks.push(...schemaRegistry.publishChecks);
  await createCatalog({
    db,
    server,
    env: config.env,
    schemas: registrySchemaLookup(schemaRegistry.registry),
  });
  const ingestor = new EventIngestor({
    checks: publishChecks,
    log,
    env: config.env,
    limits: {
      maxEventBytes: config.events.maxEventBytes,
      maxBatchSize: config.events.maxBatchSize,
    },
    metrics: createIngestMetrics(metrics),
  });
  registerEventRoutes(server, { log, ingestor, maxRequestBytes: config.events.maxRequestBytes });
  registerConsumerGroupRoutes(server, { log, shutdown: shutdown.signal });
  registerOpsRoutes(server, {
    registry: metrics,
    checks: [
      { name: 'event log', ready: () => log.ready() },
      { name: 'state store', ready: () => db.ready() },
    ],
    metricsToken: config.http.metricsToken,
  });
  registerConsumerLagGauge(metrics, log);
  const push = await registerPush({
    server,
    log,
    db,
    leadership,
    authenticator,
    registry: metrics,
    config: config.push,
  });
  opened(() => push.stop());
  const routing = await createRouting({
    log,
    db,
    metrics,
    server,
    env: config.env,
    ...routingOptionsFrom(config.routing),
  });
  opened(() => routing.stop());
  const webhooks = await createWebhooks({
    db,
    log,
    server,
    routing,
    config: config.webhooks,
    env: config.env,
    ...(hooks.webhookLookup ? { lookup: hooks.webhookLookup } : {}),
  });
  opened(() => webhooks.stop());
  const dictionary = await createDictionary({
    db,
    server,
    authenticator,
    config: config.dictionary,
    metrics,
  });
  const gateway = await createGateway({
    server,
    db,
    dictionary,
    authenticator,
    metrics,
    config: config.gateway,
  });
  opened(() => gateway.close());

  // One node applies retention to the shared log (elected through the store's engine).
  leadership.runAsLeader(
    'events-retention',
    () => {
      const { maxAgeSeconds, maxBytes } = config.events.retention;
      return log
        .applyRetention({ maxAgeMs: maxAgeSeconds * 1000, ...(maxBytes ? { maxBytes } : {}) })
        .then(({ removed }) => {
          if (removed > 0) server.log.info({ removed }, 'retention removed old events');
        });
    },
    {
      intervalMs: config.events.retention.checkIntervalSeconds * 1000,
      onError: (err) => server.log.error({ err }, 'retention failed'),
    },
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      shutdown.abort();
      await leadership.stop();
      await push.stop(); // before the server: stream clients are told to reconnect
      await server.close();
      await routing.stop();
      await webhooks.stop();
      await gateway.close();
      await log.close();
      await db.close();
    })());

  await server.ready();
  await routing.start();
  await webhooks.start();
  return { config, server, log, db, metrics, routing, webhooks, leadership, devIssuer, close };
}

async function buildAuth(
  config: PorticoConfig,
  dataDir: string,
): Promise<{ authenticator: Authenticator; devIssuer: DevIssuer | undefined }> {
  if (config.auth.mode === 'oidc') {
    const authenticator = createOidcAuthenticator({
      issuer: config.auth.issuer!,
      audience: config.auth.audience,
      algorithms: config.auth.algorithms,
      tenantClaim: config.auth.tenantClaim,
      scopeClaim: config.auth.scopeClaim,
      requireTyp: config.auth.requireAccessTokenType,
      clockToleranceSec: config.auth.clockToleranceSeconds,
    });
    // Fetch discovery and keys now so a misconfigured issuer shows at start-up; an IdP that
    // is down is retried on the first request rather than stopping the hub.
    await authenticator.warmUp().catch((error: unknown) => {
      process.stderr.write(
        `portico: warning: OIDC issuer not reachable yet: ${(error as Error).message}\n`,
      );
    });
    return { authenticator, devIssuer: undefined };
  }
  const devIssuer = await loadOrCreateDevIssuer(dataDir, { audience: config.auth.audience });
  return { authenticator: devIssuer.authenticator(), devIssuer };
}

/**
 * Consumer lag per group, read from the log when Prometheus scrapes, at most once per
 * LAG_REFRESH_MS: /metrics is public, and reading every group's lag is work for the log
 * (on the embedded one, on the event loop) that scrapes in a loop must not multiply.
 */
function registerConsumerLagGauge(registry: Registry, log: EventLog): void {
  let readAt = -Infinity;
  new Gauge({
    name: 'portico_consumer_group_pending',
    help: 'Events matching a consumer group not yet delivered (lag), by group; read at most every 15 s (the embedded log counts among the next 10,000 events of the group’s tenant: a lower bound beyond)',
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      if (performance.now() - readAt < LAG_REFRESH_MS) return;
      readAt = performance.now();
      // As for the DLQ depth: a log that cannot answer leaves the last values, not a failed scrape.
      const groups = await log.listGroups().catch(() => undefined);
      if (groups === undefined) return;
      this.reset();
      for (const group of groups) this.set({ group: group.name }, group.pending);
    },
  });
}
const LAG_REFRESH_MS = 15_000;
