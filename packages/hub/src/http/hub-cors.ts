/**
 * CORS for the hub's own API, so a portal shell served from another origin can read the
 * dictionary, mint stream tickets, open `/v1/stream` and read the catalog's contracts.
 * The decisions are the gateway's `Cors` (one implementation for both); the gateway's
 * routes (`/api`, `/bff`, `/graphql`) answer CORS from `gateway.cors` (`/api` in its route,
 * `/bff` and `/graphql` through `registerPathCors`).
 */
import type { FastifyInstance } from 'fastify';
import { Cors } from '../gateway/cors.ts';
import { problems } from './problem.ts';

export type HubCorsConfig = { origins: string[]; credentials: boolean; maxAgeSeconds: number };

/** What a shell sends: the token, JSON bodies, an override, SSE resume, binary CloudEvents. */
const ALLOW_HEADERS = [
  'authorization',
  'content-type',
  'if-none-match',
  'last-event-id',
  'x-portico-override',
  'x-request-id',
  'traceparent',
  'tracestate',
  'ce-*',
];

/** What a shell reads: revalidation, lifecycle, the override's fate, where a thing went. */
const EXPOSE_HEADERS = [
  'etag',
  'location',
  'retry-after',
  'x-request-id',
  'x-portico-override-status',
  'deprecation',
  'sunset',
  'link',
];

const HUB_PATHS = /^\/(?:v1\/|healthz(?:$|\?)|readyz(?:$|\?)|openapi\.json(?:$|\?))/;

/**
 * Adds the hooks; call before the auth hook, so a 401 still carries the CORS headers a
 * browser needs to show it to the page. No allowed origins: no hooks, no headers.
 */
export function registerHubCors(server: FastifyInstance, config: HubCorsConfig): void {
  if (config.origins.length === 0) return;
  const cors = new Cors({
    ...config,
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
  });
  registerPathCors(server, { paths: HUB_PATHS, cors, configKey: 'http.cors.origins' });
}

/**
 * CORS hooks for the routes under `paths`, decided by `cors`: preflights answered (or
 * refused with a problem naming `configKey`), actual responses given the headers.
 */
export function registerPathCors(
  server: FastifyInstance,
  options: { paths: RegExp; cors: Cors; configKey: string },
): void {
  const { paths, cors, configKey } = options;
  server.addHook('onRequest', async (request, reply) => {
    if (!paths.test(request.url)) return;
    const origin = request.headers.origin;
    const method = request.headers['access-control-request-method'];
    if (request.method === 'OPTIONS' && origin !== undefined && typeof method === 'string') {
      if (!cors.allows(origin))
        throw problems.forbidden(
          `the origin ${origin} may not call the hub cross-origin (it is not in ${configKey})`,
        );
      const requested = headerList(request.headers['access-control-request-headers']);
      const refusal = cors.refusal(method, requested);
      if (refusal) throw problems.forbidden(refusal);
      return reply.code(204).headers(cors.preflightHeaders(origin, requested)!).send();
    }
    // On the raw response, so hijacked replies (the SSE stream) carry them too.
    for (const [name, value] of Object.entries(cors.responseHeaders(origin)))
      reply.raw.setHeader(name, value);
    reply.raw.setHeader('vary', 'origin');
  });

  // A route's own Vary (the dictionary's) replaces the raw one: add Origin back to it.
  server.addHook('onSend', async (request, reply) => {
    if (!paths.test(request.url)) return;
    const vary = reply.getHeader('vary');
    if (vary !== undefined) reply.header('vary', withOrigin(String(vary)));
  });
}

function headerList(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.length > 0);
}

function withOrigin(vary: string): string {
  const names = vary.split(',').map((v) => v.trim().toLowerCase());
  return names.includes('origin') || names.includes('*') ? vary : `${vary}, origin`;
}
