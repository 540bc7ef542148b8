/**
 * The API gateway capability, as app.ts builds it: `/api/<api>/<version>/*` proxied to the
 * version's upstream from the dictionary, with the version's policy (config defaults
 * overridden per version in the dictionary's admin API).
 */
import type { Registry } from 'prom-client';
import type { Static } from '@sinclair/typebox';
import type { Authenticator } from '../auth/principal.ts';
import type { Dictionary } from '../dictionary/index.ts';
import type { HubServer } from '../http/server.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { createBff } from './bff/index.ts';
import { registerGraphqlEndpoint } from './graphql/graphql-endpoint.ts';
import { upstreamProblem } from '../dictionary/index.ts';
import {
  createGuardedDispatcher,
  type GuardedDispatcher,
  type SsrfPolicy,
} from '../webhooks/ssrf/index.ts';
import { CircuitBreakers } from './circuit-breaker.ts';
import type { GatewayConfigSchema } from './config-schema.ts';
import { Cors } from './cors.ts';
import { registerPathCors } from '../http/hub-cors.ts';
import { DailyQuota } from './daily-quota.ts';
import { createGatewayMetrics } from './gateway-metrics.ts';
import { registerGatewayRoutes } from './gateway-routes.ts';
import { ResponseCache } from './response-cache.ts';
import { TokenBuckets } from './token-buckets.ts';
import { UpstreamClient } from './upstream-call.ts';
import { EntryPoints } from './entry-points.ts';
import { TokenExchange } from './token-exchange.ts';
import { VersionPlans } from './version-plans.ts';
import { SharedWithFallback, type BucketStore } from './bucket-store.ts';
import { createRedisTokenBuckets } from '../cluster/redis-token-buckets.ts';
import { Redis } from 'ioredis';
import { once } from 'node:events';

export type GatewayConfig = Static<typeof GatewayConfigSchema>;

export type GatewayOptions = {
  server: HubServer;
  /** The state store (BFF compositions). */
  db: SqlDatabase;
  dictionary: Dictionary;
  authenticator: Authenticator;
  metrics: Registry;
  config: GatewayConfig;
  /** Tests inject a resolver; default node:dns. */
  lookup?: SsrfPolicy['lookup'];
};

export type Gateway = {
  /** Closes the upstream connection pools. */
  close(): Promise<void>;
};

/** Registers the gateway's and the BFF's routes (call before the server is ready). */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const dispatcher = createGuardedDispatcher({
    allowHttp: config.upstreams.allowHttp,
    allowCidrs: config.upstreams.allowCidrs,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const local = new TokenBuckets(config.maxRateLimitKeys);
  const store = config.rateLimitStore;
  let redis: Redis | undefined;
  let buckets: BucketStore = local;
  if (store.kind === 'redis') {
    redis = new Redis(store.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    // ioredis reconnects by itself; an outage is reported by the buckets' fallback.
    redis.on('error', () => {});
    // Start with the shared buckets when Redis answers soon; otherwise on this node's own.
    const connected = once(redis, 'ready').then(
      () => true,
      () => false,
    );
    await Promise.race([connected, new Promise((r) => setTimeout(r, 2000).unref())]);
    const shared = createRedisTokenBuckets(redis, { prefix: store.prefix });
    buckets = new SharedWithFallback(shared, local, options.server.log);
  }
  // The hub's authenticator already remembers verified tokens (auth/verified-tokens.ts).
  const authenticator = options.authenticator;
  const cors = new Cors(config.cors);
  // `/api` answers CORS in its route (it also varies the cached entry); these here.
  if (config.cors.origins.length > 0)
    registerPathCors(options.server, {
      paths: /^\/(?:bff\/|graphql(?:$|\?))/,
      cors,
      configKey: 'gateway.cors.origins',
    });
  await registerGatewayRoutes(options.server, {
    dictionary: options.dictionary,
    authenticator,
    client: new UpstreamClient(dispatcher, new CircuitBreakers()),
    buckets,
    quota: new DailyQuota(),
    cache: new ResponseCache(config.cache),
    cors,
    metrics: createGatewayMetrics(options.metrics),
    plans: new VersionPlans(config.defaults, config.maxRequestBytes),
    entryPoints: new EntryPoints(config.entryPoints),
    tokenExchange: config.tokenExchange ? new TokenExchange(config.tokenExchange) : undefined,
    maxEntryBytes: config.cache.maxEntryBytes,
  });
  await createBff({ db: options.db, server: options.server, authenticator });
  const graphql =
    config.graphql.subgraphs.length > 0
      ? await startGraphql({ ...options, authenticator }, dispatcher)
      : undefined;
  return {
    close: async () => {
      await graphql?.close();
      await dispatcher.close();
      redis?.disconnect();
    },
  };
}

async function startGraphql(options: GatewayOptions, dispatcher: GuardedDispatcher) {
  const { graphql } = options.config;
  graphql.subgraphs.forEach((s, i) => {
    const problem = upstreamProblem(s.url);
    if (problem) throw new Error(`config gateway.graphql.subgraphs/${i}/url ${problem}`);
  });
  return registerGraphqlEndpoint(options.server, {
    authenticator: options.authenticator,
    dispatcher,
    config: { ...graphql, maxRequestBytes: options.config.maxRequestBytes },
  });
}
