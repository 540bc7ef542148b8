import type { Registry } from 'prom-client';
import type { HubServer } from '../http/server.ts';
import { problems } from '../http/problem.ts';

/** A dependency /readyz checks (the event log, the state store …). */
export type ReadinessCheck = { name: string; ready: () => Promise<boolean> };

export function registerOpsRoutes(
  server: HubServer,
  deps: { registry: Registry; checks: ReadinessCheck[] },
): void {
  server.get(
    '/healthz',
    { config: { public: true }, schema: { summary: 'Liveness', tags: ['operations'] } },
    async () => ({ status: 'ok' }),
  );

  server.get(
    '/readyz',
    {
      config: { public: true },
      schema: { summary: 'Readiness: every store reachable', tags: ['operations'] },
    },
    async () => {
      const results = await Promise.all(
        deps.checks.map(async (c) => ({ name: c.name, ready: await c.ready().catch(() => false) })),
      );
      const down = results.filter((r) => !r.ready).map((r) => r.name);
      if (down.length > 0) throw problems.unavailable(`not ready: ${down.join(', ')} unreachable`);
      return { status: 'ready', checks: Object.fromEntries(results.map((r) => [r.name, 'ok'])) };
    },
  );

  server.get(
    '/metrics',
    { config: { public: true }, schema: { summary: 'Prometheus metrics', tags: ['operations'] } },
    async (_request, reply) => {
      reply.type(deps.registry.contentType);
      return deps.registry.metrics();
    },
  );
}
