/**
 * The webhooks capability as app.ts builds it: the endpoints table and API, the `webhook`
 * sender registered with the one delivery engine, the endpoint delivery API (attempts,
 * DLQ, resend, recover), endpoint health (auto-disable) and its operational event.
 */
import type { LookupFunction } from 'node:net';
import type { EventLog } from '../backbone/event-log.ts';
import type { HubServer } from '../http/server.ts';
import type { Routing } from '../routing/routing.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { targetKey } from '../delivery/target-key.ts';
import { PLATFORM, tenantOwner } from '../routing/rule.ts';
import type { WebhooksConfig } from './config-schema.ts';
import { registerEndpointDeliveryRoutes } from './deliveries/endpoint-delivery-routes.ts';
import { registerEndpointRoutes } from './endpoints/endpoint-routes.ts';
import { EndpointGoneError, EndpointService } from './endpoints/endpoint-service.ts';
import { EndpointStore } from './endpoints/endpoint-store.ts';
import { WEBHOOK_MIGRATIONS } from './endpoints/migrations.ts';
import { EndpointHealth } from './health/endpoint-health.ts';
import { OperationalEvents } from './health/operational-events.ts';
import { EndpointCache } from './sender/endpoint-cache.ts';
import { WebhookSender } from './sender/webhook-sender.ts';
import { createGuardedDispatcher } from './ssrf/index.ts';

export type WebhooksOptions = {
  db: SqlDatabase;
  log: EventLog;
  server: HubServer;
  routing: Routing;
  config: WebhooksConfig;
  /** The topic environment (operational events go to `portico.<env>.webhook.*`). */
  env: string;
  /** The resolver for endpoint host names (default node:dns); tests inject one. */
  lookup?: LookupFunction;
  clock?: () => number;
};

export type Webhooks = {
  endpoints: EndpointStore;
  /** Repairs endpoint rules left half-written by a crash, and warms the sender's cache. */
  start(): Promise<void>;
  /** Closes outbound connections (call after the delivery engine stopped). */
  stop(): Promise<void>;
};

/** Migrates, registers the routes and the `webhook` sender (call before the server is ready). */
export async function createWebhooks(o: WebhooksOptions): Promise<Webhooks> {
  const { config, routing, server } = o;
  await o.db.migrate(WEBHOOK_MIGRATIONS);
  const clock = o.clock ?? Date.now;
  const requestTimeoutMs = Math.round(config.requestTimeoutSeconds * 1000);

  const store = new EndpointStore(o.db);
  const cache = new EndpointCache(store);
  const operational = new OperationalEvents(o.log, o.env);
  const service = new EndpointService({
    store,
    rules: routing.rules,
    maxEndpointsPerTenant: config.maxEndpointsPerTenant,
    // The route answers once this node's sender has the change (concurrency, URL, keys),
    // and the dispatcher looks at the endpoint's waiting deliveries at once: slots a
    // raised concurrency added are used now, not at its next look for pending work.
    changed: async (id) => {
      const cached = await cache.refresh(id, clock());
      if (cached)
        routing.deliveries.notify([
          { key: targetKey(tenantOwner(cached.endpoint.tenant), 'webhook', id), kind: 'webhook' },
        ]);
    },
    // Its pending deliveries (retries may be hours away) go to the DLQ now, not each when
    // it comes due; one that an attempt holds ends there (endpoint-not-found as well).
    onRemoved: async (endpoint) => {
      const keys = [tenantOwner(endpoint.tenant), PLATFORM].map((owner) =>
        targetKey(owner, 'webhook', endpoint.id),
      );
      await routing.deliveries.store.deadLetterPending(
        keys,
        'endpoint-not-found',
        `the webhook endpoint "${endpoint.id}" was deleted`,
        clock(),
      );
    },
    onAutoDisabled: async (endpoint, reason, now) => {
      server.log.warn(
        { endpoint: endpoint.id, tenant: endpoint.tenant, reason },
        'webhooks: endpoint disabled',
      );
      await operational.endpointDisabled(endpoint, reason, now);
    },
    logger: server.log,
    clock,
  });
  const health = new EndpointHealth({
    store,
    cache,
    disableAfterMs: config.disableAfterFailingSeconds * 1000,
    disable: async (endpoint, reason, due) => {
      // Deleted meanwhile: nothing left to disable.
      await service.setEnabled(endpoint, false, reason, due).catch((error: unknown) => {
        if (!(error instanceof EndpointGoneError)) throw error;
      });
    },
  });
  const dispatcher = createGuardedDispatcher({
    allowHttp: config.allowHttp,
    allowCidrs: config.allowCidrs,
    connectTimeoutMs: Math.min(10_000, requestTimeoutMs),
    ...(o.lookup ? { lookup: o.lookup } : {}),
  });
  const urlPolicy = { allowHttp: config.allowHttp, allowCidrs: config.allowCidrs };

  registerEndpointRoutes(server, {
    store,
    service,
    urlPolicy,
    maxConcurrency: config.maxConcurrencyPerEndpoint,
    rotationGraceMs: config.secretRotationGraceSeconds * 1000,
  });
  registerEndpointDeliveryRoutes(server, {
    endpoints: store,
    db: o.db,
    deliveries: routing.deliveries,
    attempts: routing.attempts,
  });

  const delaysMs = config.retryScheduleSeconds.map((s) => Math.round(s * 1000));
  routing.targets.register(
    'webhook',
    new WebhookSender({
      endpoints: cache,
      dispatcher,
      health,
      requestTimeoutMs,
      clock,
      logger: server.log,
    }),
    {
      retry: {
        delaysMs,
        maxAttempts: delaysMs.length + 1,
        // The schedule, plus a day of slack for Retry-After answers that ask for more.
        maxAgeMs: delaysMs.reduce((a, b) => a + b, 0) + 86_400_000,
        jitter: config.jitter,
      },
      // The request has its own timeout; this is the engine's backstop.
      timeoutMs: requestTimeoutMs + 5_000,
      concurrency: config.maxConcurrencyPerEndpoint,
      // Until an endpoint is cached (its first attempt on this node), one at a time.
      concurrencyOf: (id) => cache.concurrencyOf(id) ?? 1,
    },
  );

  return {
    endpoints: store,
    async start() {
      await service.reconcile();
      const now = clock();
      for (const endpoint of await store.all()) await cache.get(endpoint.id, now);
    },
    async stop() {
      await dispatcher.close();
    },
  };
}
