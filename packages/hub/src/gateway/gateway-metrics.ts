/** The gateway's Prometheus series. */
import { Counter, type Registry } from 'prom-client';

export type GatewayMetrics = { outcome(route: string, outcome: string): void };

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const requests = new Counter({
    name: 'portico_gateway_requests_total',
    help: 'Gateway requests that reached an API version, by api/version and outcome (proxied, cache_hit, upstream_error, gateway_error)',
    labelNames: ['route', 'outcome'],
    registers: [registry],
  });
  return { outcome: (route, outcome) => requests.inc({ route, outcome }) };
}
