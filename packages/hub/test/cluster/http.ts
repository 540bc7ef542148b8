/** Small HTTP helpers for the cluster suites (a hub node is only reached over HTTP). */
import { EventSource } from 'eventsource';

export type Json = Record<string, unknown>;

export async function call(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; type: string; body: Json }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: text ? (JSON.parse(text) as Json) : {},
  };
}

export function cloudEvent(id: string, type: string, data: unknown = {}, extra: Json = {}): string {
  return JSON.stringify({ specversion: '1.0', id, source: '/cluster-test', type, data, ...extra });
}

/** POST one structured-mode CloudEvent; resolves to the status and the parsed body. */
export async function publish(
  base: string,
  headers: Record<string, string>,
  id: string,
  type: string,
  data: unknown = {},
  extra: Json = {},
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${base}/v1/events`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/cloudevents+json' },
    body: cloudEvent(id, type, data, extra),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** Every event of the tenant in the log, read page by page through `base`. */
export async function readAll(
  base: string,
  headers: Record<string, string>,
  topic?: string,
): Promise<Array<{ position: number; event: { id: string } & Json }>> {
  const all: Array<{ position: number; event: { id: string } & Json }> = [];
  for (let after = 0; ;) {
    const query = `after=${after}&limit=1000${topic ? `&topic=${encodeURIComponent(topic)}` : ''}`;
    const page = await call(`${base}/v1/events?${query}`, 'GET', headers);
    if (page.status !== 200)
      throw new Error(`read failed: ${page.status} ${JSON.stringify(page.body)}`);
    const events = page.body.events as Array<{ position: number; event: { id: string } & Json }>;
    all.push(...events);
    if (page.body.more !== true) return all;
    after = page.body.next as number;
  }
}

/** Sum of a Prometheus counter's samples whose labels contain `labels`. */
export async function metricSum(base: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').pop());
  return sum;
}

export type SseClient = {
  messages: Array<{ position: number; event: { id: string } & Json }>;
  ready: Promise<void>;
  close(): void;
};

/** An SSE client (the `eventsource` package, as a browser's EventSource) with a bearer token. */
export function sseClient(url: string, authorization: string): SseClient {
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, authorization } }),
  });
  const messages: SseClient['messages'] = [];
  const ready = new Promise<void>((resolve, reject) => {
    source.addEventListener('ready', () => resolve());
    source.addEventListener('error', (e) => reject(new Error(`SSE error: ${String(e.message)}`)));
  });
  ready.catch(() => undefined);
  source.addEventListener('message', (e) => {
    messages.push(JSON.parse(e.data) as SseClient['messages'][number]);
  });
  return { messages, ready, close: () => source.close() };
}
