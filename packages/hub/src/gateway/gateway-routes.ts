/**
 * `/api/<api>/<version>/<path>`: the gateway's one route. In order: CORS, the caller's token,
 * the version from the tenant's dictionary (and the entry point's domains), its lifecycle,
 * scopes, size, quota and rate limits, the token exchange, the response cache, then the
 * upstream (timeouts, retries, circuit breaker). Bodies stream through both ways; only
 * small request bodies that may be retried, and responses being cached, are held whole.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Authenticator } from '../auth/principal.ts';
import { parseBearer } from '../auth/bearer.ts';
import {
  lifecycleHeaders,
  OVERRIDE_STATUS_HEADER,
  presentedOverride,
  type Dictionary,
} from '../dictionary/index.ts';
import type { HubServer } from '../http/server.ts';
import { ProblemError, problems } from '../http/problem.ts';
import { principalFor } from '../http/request-principal.ts';
import type { BucketStore } from './bucket-store.ts';
import type { Cors } from './cors.ts';
import type { DailyQuota } from './daily-quota.ts';
import type { EntryPoints } from './entry-points.ts';
import {
  APP_HEADER,
  clientResponseHeaders,
  identityHeadersSendable,
  upstreamRequestHeaders,
} from './forward-headers.ts';
import { gatewayProblems } from './gateway-problems.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { missingScopes } from './policy.ts';
import { checkRateLimits } from './rate-limits.ts';
import { readBody, StreamedBody } from './request-body.ts';
import { ResponseCache } from './response-cache.ts';
import { exchangeFailed, type TokenExchange } from './token-exchange.ts';
import { TraceIds } from './trace-ids.ts';
import { bodyFailure, type UpstreamClient } from './upstream-call.ts';
import type { VersionPlans } from './version-plans.ts';

export type GatewayRouteDeps = {
  dictionary: Dictionary;
  authenticator: Authenticator;
  client: UpstreamClient;
  buckets: BucketStore;
  quota: DailyQuota;
  cache: ResponseCache;
  cors: Cors;
  metrics: GatewayMetrics;
  plans: VersionPlans;
  entryPoints: EntryPoints;
  /** Absent: versions whose policy asks for a token exchange fail with a 502. */
  tokenExchange: TokenExchange | undefined;
  maxEntryBytes: number;
};

const PATH = /^\/api\/([^/]+)\/([^/]+)(\/[^?]*)?$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const APP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** `..;x` is a dot segment too for servlet containers (path parameters are cut off first). */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|;|%3b|$)/i;
/**
 * A `#` in a request target (which cannot hold one) ends the path for URL parsers upstream;
 * so does a NUL for servers written in C (`..%00` is `..` there).
 */
const ENCODED_SLASH = /%2f|%5c|\\|#|%00/i;
/** Request bodies up to this size are read whole when a retry may need to resend them. */
const RETRYABLE_BODY = 64 * 1024;
const RETRIED_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Error bodies are read up to this much to be carried in the problem. */
const MAX_ERROR_BODY = 64 * 1024;

export async function registerGatewayRoutes(
  server: HubServer,
  deps: GatewayRouteDeps,
): Promise<void> {
  const traceIds = new TraceIds();
  await server.register(async (scope) => {
    // Bodies are the upstream's business: any content type, handed over as the raw stream
    // (counted against the version's limit while it is forwarded).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const options = {
      // The handler authenticates itself: gateway scopes are the APIs', not the hub's.
      config: { public: true },
      schema: { hide: true },
    };
    scope.all('/api/:api/:version', options, (request, reply) =>
      handle(deps, traceIds, request, reply),
    );
    scope.all('/api/:api/:version/*', options, (request, reply) =>
      handle(deps, traceIds, request, reply),
    );
  });
}

async function handle(
  deps: GatewayRouteDeps,
  traceIds: TraceIds,
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
  const corsHeaders = origin ? deps.cors.responseHeaders(origin) : NONE;
  if (corsHeaders !== NONE) reply.headers(corsHeaders);

  const raw = request.raw.url ?? '/';
  const q = raw.indexOf('?');
  const match = PATH.exec(q < 0 ? raw : raw.slice(0, q));
  const apiName = match ? safeDecode(match[1]!) : undefined;
  const versionName = match ? safeDecode(match[2]!) : undefined;
  if (!match || !apiName || !versionName || !NAME.test(apiName) || !NAME.test(versionName))
    throw problems.notFound('gateway paths are /api/<api>/<version>/<path>');
  const rest = match[3] ?? '';
  // Dot segments (also `..;`), encoded or back slashes an upstream might turn into separators,
  // and a `#` that makes a URL parser drop what follows (`/..#` is `/..`), could climb out of
  // the upstream's base path.
  if (DOT_SEGMENT.test(rest) || ENCODED_SLASH.test(rest))
    throw problems.validation(
      'the path must not contain "." or ".." segments, encoded slashes, "#" or "%00"',
    );
  // TRACE echoes the request it got: the identity and forwarding headers the gateway added,
  // and the caller's cookies (cross-site tracing). Not proxied.
  if (method === 'TRACE') throw gatewayProblems.methodNotAllowed(method);

  const token = parseBearer(request.headers.authorization);
  const answer = principalFor(deps.authenticator, token);
  const principal = answer instanceof Promise ? await answer : answer;
  // For the access log (the hub's auth hook sets it on routes with a hub scope).
  request.principal = principal;
  const resolved = await deps.dictionary.resolve(
    principal.tenant,
    apiName,
    versionName,
    presentedOverride(request.headers),
  );
  if (resolved.override) reply.header(OVERRIDE_STATUS_HEADER, resolved.override);
  const found = resolved.found;
  if (!found?.version.upstream || !deps.entryPoints.allows(request.headers.host, found.api.domain))
    throw problems.notFound(
      `no API "${apiName}" version "${versionName}" is served by the gateway`,
    );
  const { version } = found;
  const upstream = found.version.upstream;
  const plan = deps.plans.for(apiName, version);
  if (plan.lifecycle) {
    const lifecycle = lifecycleHeaders(version);
    if (plan.goneAt <= Date.now())
      throw gatewayProblems.gone(`${apiName} ${versionName} is past its sunset`, lifecycle);
    reply.headers(lifecycle);
  }

  const { policy, route } = plan;
  const missing = missingScopes(policy, principal.scopes);
  if (missing.length > 0)
    throw problems.forbidden(
      `this API needs the scope${missing.length > 1 ? 's' : ''} "${missing.join('", "')}"`,
    );
  // Refused here rather than by the HTTP client, where it looked like the upstream failing
  // (a 502, counted against its circuit).
  if (!identityHeadersSendable(principal))
    throw problems.forbidden(
      "the token's subject or scopes hold characters an upstream header cannot carry",
    );
  const source = request.body instanceof Readable ? request.body : bodyOfBodyless(request);
  const declared = source ? declaredLength(request.headers['content-length']) : 0;
  if (declared !== undefined && declared > policy.maxRequestBytes)
    throw problems.tooLarge(
      `this API accepts request bodies up to ${policy.maxRequestBytes} bytes`,
    );

  const appHeader = request.headers[APP_HEADER];
  const app = typeof appHeader === 'string' && APP.test(appHeader) ? appHeader : '-';
  if (plan.rateLimits) {
    const limits = checkRateLimits(deps.buckets, deps.quota, plan.rateLimits, principal, app);
    reply.headers(limits instanceof Promise ? await limits : limits);
  }

  let upstreamToken: string | undefined;
  if (policy.tokenExchange) {
    try {
      if (!deps.tokenExchange)
        throw exchangeFailed('no token endpoint is configured (gateway.tokenExchange)');
      // The token the principal came from: present, or there would be no principal.
      upstreamToken = await deps.tokenExchange.exchange(token!, policy.tokenExchange);
    } catch (error) {
      deps.metrics.outcome(route, 'gateway_error');
      if (!(error instanceof ProblemError)) throw error;
      request.log.warn({ status: error.status, upstream: apiName }, error.message);
      return sendProblem(reply, request, error);
    }
  }

  const headers = upstreamRequestHeaders(request.headers, {
    principal,
    requestId: request.id,
    clientIp: request.ip,
    protocol: request.protocol,
    host: request.host,
    forwardAuthorization: policy.forwardAuthorization === true,
    traceIds,
    ...(upstreamToken !== undefined ? { upstreamToken } : {}),
  });
  // Small bodies that a retry may resend are read whole; the rest stream through, once.
  let body: Buffer | StreamedBody | undefined;
  if (source && declared !== 0) {
    if (
      declared !== undefined &&
      declared <= RETRYABLE_BODY &&
      policy.retries > 0 &&
      RETRIED_METHODS.has(method)
    )
      body = await readBody(source, policy.maxRequestBytes);
    else {
      body = new StreamedBody(source, policy.maxRequestBytes);
      if (declared !== undefined) headers['content-length'] = String(declared);
    }
  }
  const pathAndQuery = rest + (q < 0 ? '' : raw.slice(q));
  // A GET with a body (a search, as some APIs have it) is not told apart by its URL.
  const cacheable =
    policy.cache === true && (method === 'GET' || method === 'HEAD') && source === undefined;
  const cacheKey = cacheable
    ? ResponseCache.key(principal.tenant, `${upstream}${pathAndQuery}`)
    : '';
  // The request's value of a header the answer varies on: as sent upstream, except that
  // `Vary: Authorization` says the answer is the caller's, so it varies on the caller even
  // when the caller's token was not sent (the upstream told callers apart by x-portico-subject).
  const sentHeader = (name: string) =>
    name === 'authorization'
      ? `${headers.authorization ?? ''}\0${principal.subject}`
      : (headers[name] ?? '');
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

  const call = {
    tenant: principal.tenant,
    upstream,
    pathAndQuery,
    method,
    headers,
    body,
    timeoutMs: policy.timeoutMs,
    retries: policy.retries,
    breaker: policy.circuitBreaker,
  };
  const started = performance.now();
  if (!cacheable) {
    // The common case: the upstream's answer goes straight to the client's socket.
    let forwarded;
    try {
      forwarded = await deps.client.forward(
        call,
        {
          response: reply.raw,
          start: (status, upstreamHeaders) =>
            startReply(reply, status, upstreamHeaders, corsHeaders),
        },
        MAX_ERROR_BODY,
      );
    } catch (error) {
      return upstreamFailed(deps, request, reply, route, apiName, error);
    }
    deps.metrics.upstreamLatency(route, forwarded.status, (performance.now() - started) / 1000);
    if (forwarded.streamed) {
      deps.metrics.outcome(route, 'proxied');
      return reply;
    }
    deps.metrics.outcome(route, 'upstream_error');
    const text = forwarded.body.toString('utf8');
    return upstreamError(request, reply, forwarded.status, forwarded.headers, text);
  }

  let response;
  try {
    response = await deps.client.call(call);
  } catch (error) {
    return upstreamFailed(deps, request, reply, route, apiName, error);
  }
  deps.metrics.upstreamLatency(route, response.status, (performance.now() - started) / 1000);
  // Bodies read before anything goes to the client: an upstream that breaks off or stalls
  // here is a 502/504 problem like any other upstream failure, not the hub's error.
  let errorText: string | undefined;
  let read: Awaited<ReturnType<typeof readUpTo>> | undefined;
  try {
    if (response.status >= 400) errorText = await readCapped(response.body, MAX_ERROR_BODY);
    else if (method === 'GET') read = await readUpTo(response.body, deps.maxEntryBytes);
  } catch (error) {
    return upstreamFailed(
      deps,
      request,
      reply,
      route,
      apiName,
      bodyFailure(error, policy.timeoutMs),
    );
  }
  if (errorText !== undefined) {
    deps.metrics.outcome(route, 'upstream_error');
    const outHeaders = clientResponseHeaders(response.headers);
    return upstreamError(request, reply, response.status, outHeaders, errorText);
  }
  deps.metrics.outcome(route, 'proxied');
  const outHeaders = withCorsVary(clientResponseHeaders(response.headers), corsHeaders);
  if (read) {
    if (read.complete) {
      const stored = deps.cache.store(
        cacheKey,
        response.status,
        outHeaders as Record<string, string>,
        read.bytes,
        sentHeader,
        headers.authorization !== undefined,
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
  // HEAD of a cacheable API: nothing to store; the headers as the upstream sent them.
  return reply
    .code(response.status)
    .headers(withCorsVary(clientResponseHeaders(response.headers, true), corsHeaders))
    .send(response.body);
}

/**
 * Writes the head of an upstream's answer to the client: what the route set on the reply
 * (request id, CORS, lifecycle, rate-limit fields), then the upstream's headers over them,
 * as reply.headers() would. The reply is hijacked: the body goes to the socket directly.
 */
function startReply(
  reply: FastifyReply,
  status: number,
  upstreamHeaders: Record<string, string | string[]>,
  corsHeaders: Record<string, string>,
): void {
  const res = reply.raw;
  const out = reply.getHeaders();
  for (const name in upstreamHeaders) out[name] = upstreamHeaders[name];
  if (corsHeaders.vary)
    out.vary = upstreamHeaders.vary ? `${String(upstreamHeaders.vary)}, origin` : 'origin';
  res.writeHead(status, out as OutgoingHttpHeaders);
  reply.hijack();
}

/** A call that got no usable answer: its problem, or the error for the hub's handler. */
function upstreamFailed(
  deps: GatewayRouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  route: string,
  apiName: string,
  error: unknown,
): FastifyReply {
  // Upstream trouble is not the hub failing: answered here and logged as a warning, so an
  // outage (each fast-failed request of an open circuit) does not flood the error log.
  if (error instanceof ProblemError) {
    if (error.status === 499) deps.metrics.outcome(route, 'client_closed');
    else if (error.status >= 500) {
      deps.metrics.outcome(route, 'gateway_error');
      request.log.warn({ status: error.status, upstream: apiName }, error.message);
    }
    return sendProblem(reply, request, error);
  }
  deps.metrics.outcome(route, 'gateway_error');
  throw error;
}

const NONE: Record<string, string> = {};

/**
 * The body of a GET or HEAD, which Fastify leaves unread (its "bodyless" methods): still the
 * caller's request, so it goes upstream like any other body, not silently dropped.
 */
function bodyOfBodyless(request: FastifyRequest): Readable | undefined {
  const { headers } = request;
  const length = headers['content-length'];
  if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0'))
    return undefined;
  return request.raw;
}

/** The declared Content-Length; undefined for a chunked body (its length is unknown). */
function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** An upstream error in the one problem model, with the upstream's status kept. */
function upstreamError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  headers: Record<string, string | string[]>,
  text: string,
): FastifyReply {
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
