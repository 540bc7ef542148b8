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
  // Labelled children, looked up once per label set: hashing the labels object on every
  // request showed in the proxy's profile.
  const outcomes = new Map<string, { inc(): void }>();
  const latencies = new Map<string, { observe(v: number): void }>();
  return {
    outcome: (route, outcome) => {
      const key = `${route}\0${outcome}`;
      let child = outcomes.get(key);
      if (!child) outcomes.set(key, (child = requests.labels({ route, outcome })));
      child.inc();
    },
    upstreamLatency: (route, status, seconds) => {
      const statusClass = `${Math.floor(status / 100)}xx`;
      const key = `${route}\0${statusClass}`;
      let child = latencies.get(key);
      if (!child) latencies.set(key, (child = latency.labels({ route, status: statusClass })));
      child.observe(seconds);
    },
  };
}
