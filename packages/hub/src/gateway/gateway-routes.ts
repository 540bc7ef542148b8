/**
 * `/api/<api>/<version>/<path>`: the gateway's one route. In order: CORS, the caller's token,
 * the version from the tenant's dictionary, its lifecycle, scopes, size, quota and rate
 * limits, the response cache, then the upstream (timeouts, retries, circuit breaker).
 * Bodies are buffered (bounded) so idempotent requests can be retried.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { Authenticator } from '../auth/principal.ts';
import {
  lifecycleHeaders,
  OVERRIDE_STATUS_HEADER,
  presentedOverride,
  type Dictionary,
  type Policy,
} from '../dictionary/index.ts';
import type { HubServer } from '../http/server.ts';
import { ProblemError, problems } from '../http/problem.ts';
import { requirePrincipal } from '../http/request-principal.ts';
import type { BucketStore } from './bucket-store.ts';
import type { Cors } from './cors.ts';
import type { DailyQuota } from './daily-quota.ts';
import { APP_HEADER, clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.ts';
import { gatewayProblems } from './gateway-problems.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { effectivePolicy, missingScopes } from './policy.ts';
import { checkRateLimits } from './rate-limits.ts';
import { ResponseCache } from './response-cache.ts';
import type { UpstreamClient } from './upstream-call.ts';

export type GatewayRouteDeps = {
  dictionary: Dictionary;
  authenticator: Authenticator;
  client: UpstreamClient;
  buckets: BucketStore;
  quota: DailyQuota;
  cache: ResponseCache;
  cors: Cors;
  metrics: GatewayMetrics;
  defaults: Policy;
  maxRequestBytes: number;
  maxEntryBytes: number;
};

const PATH = /^\/api\/([^/]+)\/([^/]+)(\/[^?]*)?$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const APP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Responses up to this size (by Content-Length) are buffered rather than streamed. */
const SMALL_BODY = 64 * 1024;
/** Error bodies are read up to this much to be carried in the problem. */
const MAX_ERROR_BODY = 64 * 1024;

export async function registerGatewayRoutes(
  server: HubServer,
  deps: GatewayRouteDeps,
): Promise<void> {
  await server.register(async (scope) => {
    // Bodies are the upstream's business: take any content type as bytes, bounded.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: deps.maxRequestBytes },
      (_request, body, done) => done(null, body),
    );
    const options = {
      // The handler authenticates itself: gateway scopes are the APIs', not the hub's.
      config: { public: true },
      schema: { hide: true },
    };
    scope.all('/api/:api/:version', options, (request, reply) => handle(deps, request, reply));
    scope.all('/api/:api/:version/*', options, (request, reply) => handle(deps, request, reply));
  });
}

async function handle(
  deps: GatewayRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  const origin = request.headers.origin;
  const method = request.method;
  if (method === 'OPTIONS' && origin && request.headers['access-control-request-method']) {
    const headers = deps.cors.preflightHeaders(origin);
    if (!headers) throw problems.forbidden('this origin is not allowed to call the gateway');
    return reply.code(204).headers(headers).send();
  }
  const corsHeaders = deps.cors.responseHeaders(origin);
  reply.headers(corsHeaders);

  const raw = request.raw.url ?? '/';
  const q = raw.indexOf('?');
  const match = PATH.exec(q < 0 ? raw : raw.slice(0, q));
  const apiName = match ? safeDecode(match[1]!) : undefined;
  const versionName = match ? safeDecode(match[2]!) : undefined;
  if (!match || !apiName || !versionName || !NAME.test(apiName) || !NAME.test(versionName))
    throw problems.notFound('gateway paths are /api/<api>/<version>/<path>');
  const rest = match[3] ?? '';
  // Dot segments, and encoded or back slashes an upstream might turn into separators, could
  // climb out of the upstream's base path.
  if (rest.split('/').some((s) => /^(\.|%2e){1,2}$/i.test(s)) || /%2f|%5c|\\/i.test(rest))
    throw problems.validation('the path must not contain "." or ".." segments or encoded slashes');

  const principal = await requirePrincipal(deps.authenticator, request);
  const resolved = await deps.dictionary.resolve(
    principal.tenant,
    apiName,
    versionName,
    presentedOverride(request.headers),
  );
  if (resolved.override) reply.header(OVERRIDE_STATUS_HEADER, resolved.override);
  const found = resolved.found;
  if (!found?.version.upstream)
    throw problems.notFound(
      `no API "${apiName}" version "${versionName}" is served by the gateway`,
    );
  const { version } = found;
  const upstream = found.version.upstream;
  const lifecycle = lifecycleHeaders(version);
  if (
    version.status === 'sunset' ||
    (version.sunsetAt && Date.parse(version.sunsetAt) <= Date.now())
  )
    throw gatewayProblems.gone(`${apiName} ${versionName} is past its sunset`, lifecycle);
  reply.headers(lifecycle);

  const policy = effectivePolicy(deps.defaults, version.policy, deps.maxRequestBytes);
  const missing = missingScopes(policy, principal.scopes);
  if (missing.length > 0)
    throw problems.forbidden(
      `this API needs the scope${missing.length > 1 ? 's' : ''} "${missing.join('", "')}"`,
    );
  const body = Buffer.isBuffer(request.body) ? request.body : undefined;
  if (body && body.length > policy.maxRequestBytes)
    throw problems.tooLarge(
      `this API accepts request bodies up to ${policy.maxRequestBytes} bytes`,
    );

  const appHeader = request.headers[APP_HEADER];
  const app = typeof appHeader === 'string' && APP.test(appHeader) ? appHeader : '-';
  const route = `${apiName}/${versionName}`;
  reply.headers(await checkRateLimits(deps.buckets, deps.quota, policy, route, principal, app));

  const headers = upstreamRequestHeaders(request.headers, {
    principal,
    requestId: request.id,
    clientIp: request.ip,
    protocol: request.protocol,
    host: request.host,
    forwardAuthorization: policy.forwardAuthorization === true,
  });
  const pathAndQuery = rest + (q < 0 ? '' : raw.slice(q));
  const cacheable = policy.cache === true && (method === 'GET' || method === 'HEAD');
  const cacheKey = cacheable
    ? ResponseCache.key(principal.tenant, `${upstream}${pathAndQuery}`)
    : '';
  const sentHeader = (name: string) => headers[name] ?? '';
  if (cacheable && !/no-cache|no-store/i.test(String(request.headers['cache-control'] ?? ''))) {
    const hit = deps.cache.lookup(cacheKey, sentHeader);
    if (hit) {
      deps.metrics.outcome(route, 'cache_hit');
      return reply
        .code(hit.status)
        .headers(withCorsVary(hit.headers, corsHeaders))
        .header('age', String(Math.floor((Date.now() - hit.storedAt) / 1000)))
        .header('x-portico-cache', 'HIT')
        .send(method === 'HEAD' ? undefined : hit.body);
    }
  }

  let response;
  const started = performance.now();
  try {
    response = await deps.client.call({
      upstream,
      pathAndQuery,
      method,
      headers,
      body: body && body.length > 0 ? body : undefined,
      timeoutMs: policy.timeoutMs,
      retries: policy.retries,
      breaker: policy.circuitBreaker,
    });
  } catch (error) {
    deps.metrics.outcome(route, 'gateway_error');
    // Upstream trouble is not the hub failing: answered here and logged as a warning, so an
    // outage (each fast-failed request of an open circuit) does not flood the error log.
    if (error instanceof ProblemError) {
      request.log.warn({ status: error.status, upstream: apiName }, error.message);
      return sendProblem(reply, request, error);
    }
    throw error;
  }
  deps.metrics.upstreamLatency(route, response.status, (performance.now() - started) / 1000);
  const outHeaders = withCorsVary(clientResponseHeaders(response.headers), corsHeaders);
  if (response.status >= 400) {
    deps.metrics.outcome(route, 'upstream_error');
    return upstreamError(request, reply, response.status, outHeaders, response.body);
  }
  deps.metrics.outcome(route, 'proxied');
  if (cacheable && method === 'GET') {
    const read = await readUpTo(response.body, deps.maxEntryBytes);
    if (read.complete) {
      const stored = deps.cache.store(
        cacheKey,
        response.status,
        outHeaders as Record<string, string>,
        read.bytes,
        sentHeader,
      );
      return reply
        .code(response.status)
        .headers(outHeaders)
        .header('x-portico-cache', stored ? 'MISS' : 'BYPASS')
        .send(read.bytes);
    }
    return reply
      .code(response.status)
      .headers(outHeaders)
      .header('x-portico-cache', 'BYPASS')
      .send(read.stream);
  }
  // Small bodies of known length are read whole: one write with a Content-Length is much
  // cheaper than piping a stream with chunked encoding. Others stream as they come.
  const length = Number(response.headers['content-length']);
  if (length <= SMALL_BODY && method !== 'HEAD')
    return reply
      .code(response.status)
      .headers(outHeaders)
      .send(Buffer.from(await response.body.arrayBuffer()));
  return reply.code(response.status).headers(outHeaders).send(response.body);
}

/** An upstream error in the one problem model, with the upstream's status kept. */
async function upstreamError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  headers: Record<string, string | string[]>,
  body: Readable,
): Promise<unknown> {
  const text = await readCapped(body, MAX_ERROR_BODY);
  const type = String(headers['content-type'] ?? '');
  const keep = headers['retry-after'];
  if (keep !== undefined) reply.header('retry-after', keep);
  if (type.startsWith('application/problem+json'))
    return reply.code(status).type('application/problem+json').send(text);
  let detail: unknown;
  if (/[/+]json\b/.test(type)) {
    try {
      detail = JSON.parse(text);
    } catch {
      detail = text.slice(0, 1024);
    }
  } else if (type.startsWith('text/')) detail = text.slice(0, 1024);
  return sendProblem(reply, request, gatewayProblems.upstream(status, detail));
}

/** The upstream's `Vary` with `origin` added when CORS answered for an origin. */
function withCorsVary<T extends Record<string, string | string[]>>(
  headers: T,
  cors: Record<string, string>,
): T {
  if (!cors.vary) return headers;
  const vary = headers.vary;
  return { ...headers, vary: vary ? `${String(vary)}, origin` : 'origin' };
}

/** Renders a problem as the hub's error handler does, without logging it as a hub failure. */
function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  problem: ProblemError,
): FastifyReply {
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type('application/problem+json')
    .send(problem.toBody(request.url.split('?')[0]));
}

async function readCapped(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size + buf.length > max) {
      chunks.push(buf.subarray(0, max - size));
      body.destroy();
      break;
    }
    chunks.push(buf);
    size += buf.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Buffers a body of at most `max` bytes (chunked bodies have no length to check first); a
 * longer one is handed back as a stream that replays what was read, then the rest.
 */
async function readUpTo(
  body: AsyncIterable<Buffer> & Readable,
  max: number,
): Promise<{ complete: true; bytes: Buffer } | { complete: false; stream: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { complete: true, bytes: Buffer.concat(chunks) };
    chunks.push(next.value);
    size += next.value.length;
    if (size > max) break;
  }
  async function* replay() {
    yield* chunks;
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield next.value;
  }
  return { complete: false, stream: Readable.from(replay()) };
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
