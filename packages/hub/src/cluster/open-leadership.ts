/**
 * Builds the node's `Leadership` from the store config: PostgreSQL advisory locks when
 * the nodes share a PostgreSQL store, else (embedded store, one node) always leader.
 * Registers `portico_leader{chore}` (1 on the node that leads the chore, else 0).
 */
import { Gauge, type Registry } from 'prom-client';
import type { PorticoConfig } from '../config/schema.ts';
import { createLeadership } from './leader-scheduler.ts';
import type { Leadership } from './leadership.ts';
import { createLocalLeases } from './local-leases.ts';
import { createPostgresLeases } from './postgres-leases.ts';

export type OpenLeadershipOptions = {
  registry?: Registry;
  /** How often leases are confirmed and free ones tried (ms). Default 2000. */
  checkIntervalMs?: number;
  /** Told when PostgreSQL cannot be reached to campaign (retried at the next check). */
  onError?: (error: unknown) => void;
};

export function openLeadership(
  store: PorticoConfig['store'],
  options: OpenLeadershipOptions = {},
): Leadership {
  const backend = store.kind === 'postgres' ? createPostgresLeases(store.url) : createLocalLeases();
  const leadership = createLeadership(backend, {
    ...(options.checkIntervalMs !== undefined ? { checkIntervalMs: options.checkIntervalMs } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  if (options.registry)
    new Gauge({
      name: 'portico_leader',
      help: 'Whether this node leads the chore (1) or not (0); one node per chore leads',
      labelNames: ['chore'],
      registers: [options.registry],
      collect() {
        this.reset();
        for (const { name, leader } of leadership.status())
          this.set({ chore: name }, leader ? 1 : 0);
      },
    });
  return leadership;
}
