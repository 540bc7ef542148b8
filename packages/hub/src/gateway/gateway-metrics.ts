/** The gateway's Prometheus series. */
import { Counter, Histogram, type Registry } from 'prom-client';

export type GatewayMetrics = {
  outcome(route: string, outcome: string): void;
  /** Time to the upstream's response headers (retries included), seconds. */
  upstreamLatency(route: string, status: number, seconds: number): void;
};

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const requests = new Counter({
    name: 'portico_gateway_requests_total',
    help: 'Gateway requests that reached an API version, by api/version and outcome (proxied, cache_hit, upstream_error, gateway_error)',
    labelNames: ['route', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'portico_gateway_upstream_seconds',
    help: "Time to the upstream's response headers, retries included, by api/version and status class",
    labelNames: ['route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    outcome: (route, outcome) => requests.inc({ route, outcome }),
    upstreamLatency: (route, status, seconds) =>
      latency.observe({ route, status: `${Math.floor(status / 100)}xx` }, seconds),
  };
}
