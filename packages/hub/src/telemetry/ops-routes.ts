import { createHash, timingSafeEqual } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { HubServer } from '../http/server.ts';
import { problems } from '../http/problem.ts';
import { parseBearer } from '../auth/bearer.ts';

/** A dependency /readyz checks (the event log, the state store …). */
export type ReadinessCheck = { name: string; ready: () => Promise<boolean> };

export function registerOpsRoutes(
  server: HubServer,
  deps: {
    registry: Registry;
    checks: ReadinessCheck[];
    /** When set, /metrics needs `Authorization: Bearer <metricsToken>`. */
    metricsToken?: string | undefined;
  },
): void {
  const expected = deps.metricsToken
    ? createHash('sha256').update(deps.metricsToken).digest()
    : undefined;
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
    async (request, reply) => {
      if (expected && !matches(expected, parseBearer(request.headers.authorization)))
        throw problems.unauthorized('/metrics needs the metrics token (http.metricsToken)');
      reply.type(deps.registry.contentType);
      return deps.registry.metrics();
    },
  );
}

/** Compared as digests (equal lengths), in constant time: the token is a secret. */
function matches(expected: Buffer, token: string | undefined): boolean {
  return (
    token !== undefined && timingSafeEqual(expected, createHash('sha256').update(token).digest())
  );
}
