/**
 * Real-time push: SSE at /v1/stream and WebSocket at /v1/ws, fed by the event log's live
 * appends (on every node, in NATS mode too). `registerPush` wires it into a hub; call
 * `stop()` before closing the HTTP server so clients are told to reconnect.
 */
import type { Registry } from 'prom-client';
import type { EventLog } from '../backbone/event-log.ts';
import type { Authenticator } from '../auth/principal.ts';
import type { Leadership } from '../cluster/leadership.ts';
import type { HubServer } from '../http/server.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { PUSH_MIGRATIONS } from './migrations.ts';
import { PushGateway } from './push-gateway.ts';
import { registerPushMetrics } from './push-metrics.ts';
import { PushStats } from './push-stats.ts';
import { registerStreamRoutes } from './stream-routes.ts';
import { TicketStore } from './ticket-store.ts';
import { attachWsEndpoint } from './ws-endpoint.ts';

export type PushConfig = {
  heartbeatSeconds: number;
  retryMs: number;
  maxQueueBytes: number;
  maxConnectionsPerTenant: number;
  maxSubscriptionsPerTenant: number;
  maxSubscriptionsPerConnection: number;
  ticketTtlSeconds: number;
};

export type Push = {
  gateway: PushGateway;
  /** Drains every connection (clients told to reconnect); resolves when they are gone. */
  stop(): Promise<void>;
};

const REPLAY_PAGE_SIZE = 200;
const TICKET_SWEEP_MS = 60_000;

export async function registerPush(deps: {
  server: HubServer;
  log: EventLog;
  /** The state store: stream tickets live there, so any node redeems any node's ticket. */
  db: SqlDatabase;
  /** Sweeps expired tickets on one node at a time. */
  leadership: Leadership;
  authenticator: Authenticator;
  registry: Registry;
  config: PushConfig;
}): Promise<Push> {
  const { config } = deps;
  await deps.db.migrate(PUSH_MIGRATIONS);
  const stats = new PushStats();
  const gateway = new PushGateway({
    log: deps.log,
    stats,
    logger: deps.server.log,
    limits: {
      heartbeatMs: config.heartbeatSeconds * 1000,
      maxQueueBytes: config.maxQueueBytes,
      maxConnectionsPerTenant: config.maxConnectionsPerTenant,
      maxSubscriptionsPerTenant: config.maxSubscriptionsPerTenant,
      maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
      replayPageSize: REPLAY_PAGE_SIZE,
    },
  });
  const tickets = new TicketStore({
    db: deps.db,
    ttlMs: config.ticketTtlSeconds * 1000,
    // A tenant cannot use more tickets at once than it may hold connections.
    maxPerTenant: config.maxConnectionsPerTenant,
  });
  registerStreamRoutes(deps.server, {
    gateway,
    tickets,
    authenticator: deps.authenticator,
    retryMs: config.retryMs,
  });
  const detachWs = attachWsEndpoint({
    server: deps.server,
    gateway,
    tickets,
    authenticator: deps.authenticator,
  });
  registerPushMetrics(deps.registry, stats, gateway);
  gateway.start();
  const stopSweep = deps.leadership.runAsLeader(
    'stream-tickets-sweep',
    () => tickets.sweep().then(() => undefined),
    {
      intervalMs: TICKET_SWEEP_MS,
      onError: (err) => deps.server.log.warn({ err }, 'sweeping expired stream tickets failed'),
    },
  );

  let stopping: Promise<void> | undefined;
  return {
    gateway,
    stop: () =>
      (stopping ??= (async () => {
        stopSweep();
        // Upgrades during the drain get a clean 503 from the gateway; detach afterwards.
        await gateway.stop();
        detachWs();
      })()),
  };
}
