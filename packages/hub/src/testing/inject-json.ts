import type { HubServer } from '../http/server.ts';

/**
 * A request with an optional JSON body through Fastify's inject, as the route tests make
 * them: the status and the parsed answer (null when empty).
 */
export async function injectJson<T = Record<string, unknown>>(
  server: HubServer,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await server.inject({
    method: method as 'GET',
    url,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: res.statusCode, body: JSON.parse(res.body || 'null') as T };
}
