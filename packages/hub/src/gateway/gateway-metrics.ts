/** The gateway's Prometheus series (label sets bound once per route: bound-metrics.ts). */
import type { Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-metrics.ts';

export type GatewayMetrics = {
  outcome(route: string, outcome: string): void;
  /** Time to the upstream's response headers (retries included), seconds. */
  upstreamLatency(route: string, status: number, seconds: number): void;
};

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const requests = new BoundCounter(registry, {
    name: 'portico_gateway_requests_total',
    help: 'Gateway requests that reached an API version, by api/version and outcome (proxied, cache_hit, upstream_error, gateway_error, client_closed)',
  });
  const latency = new BoundHistogram(registry, {
    name: 'portico_gateway_upstream_seconds',
    help: "Time to the upstream's response headers, retries included, by api/version and status class",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  return {
    outcome: (route, outcome) => {
      requests.cell(`${route}\0${outcome}`, () => ({ route, outcome })).value += 1;
    },
    upstreamLatency: (route, status, seconds) => {
      const statusClass = Math.floor(status / 100);
      const cell = latency.cell(`${route}\0${statusClass}`, () => ({
        route,
        status: `${statusClass}xx`,
      }));
      latency.observe(cell, seconds);
    },
  };
}
