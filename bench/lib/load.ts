import autocannon from 'autocannon';

export type LoadResult = {
  name: string;
  requestsPerSec: number;
  itemsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
};

/**
 * One autocannon run. `body(i)` makes the i-th request's body so every event id is unique
 * (identical bodies would be deduplicated and measure nothing).
 */
export async function runLoad(options: {
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: (i: number) => string;
  itemsPerRequest?: number;
  connections?: number;
  seconds?: number;
}): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: options.url,
    method: options.method ?? 'GET',
    headers: options.headers,
    connections: options.connections ?? 32,
    pipelining: 1,
    duration: options.seconds ?? 8,
    requests: options.body
      ? [{ setupRequest: (req) => ({ ...req, body: options.body!(i++) }) }]
      : undefined,
  });
  const ok = result.requests.total - result.non2xx;
  const seconds = result.duration;
  return {
    name: options.name,
    requestsPerSec: Math.round(ok / seconds),
    itemsPerSec: Math.round((ok * (options.itemsPerRequest ?? 1)) / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

export function printTable(rows: LoadResult[], baseline: LoadResult): void {
  console.log(
    '\n| case | req/s | items/s | p50 ms | p99 ms | vs baseline req/s | errors / non-2xx |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.requestsPerSec} | ${r.itemsPerSec} | ${r.p50} | ${r.p99} | ${(r.requestsPerSec / baseline.requestsPerSec).toFixed(2)}× | ${r.errors} / ${r.non2xx} |`,
    );
}
