/**
 * `/graphql`: a federated GraphQL endpoint run by the Hive Gateway runtime (MIT) over the
 * supergraph composed from the configured subgraphs. The caller's token is verified here;
 * subgraphs get the verified tenant, subject and scopes as `x-portico-*` headers (incoming
 * ones are dropped first), the request id and trace context. Subgraph calls go through the
 * gateway's SSRF-guarded undici Agent.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createGatewayRuntime, useCustomFetch } from '@graphql-hive/gateway-runtime';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import type { Authenticator } from '../../auth/principal.ts';
import type { HubServer } from '../../http/server.ts';
import { TraceIds } from '../trace-ids.ts';
import { ProblemError, ProblemType, problems } from '../../http/problem.ts';
import { requirePrincipal } from '../../http/request-principal.ts';
import { upstreamRequestHeaders } from '../forward-headers.ts';
import { CompositionError, composeSupergraph, type SubgraphConfig } from './compose-supergraph.ts';
import { useDocumentLimits, useOperationLimits, useRequestParamErrors } from './request-guards.ts';

export type GraphqlConfig = {
  subgraphs: SubgraphConfig[];
  /** Scopes a caller needs for /graphql at all (subgraphs may check more). */
  scopes: string[];
  /** How often the subgraphs' SDL is fetched and recomposed. */
  pollSeconds: number;
  timeoutMs: number;
  forwardAuthorization: boolean;
  maxRequestBytes: number;
};

/** Headers that reach subgraphs (set by this module from the verified principal). */
const PROPAGATED = [
  'x-portico-tenant',
  'x-portico-subject',
  'x-portico-scopes',
  'x-request-id',
  'traceparent',
  'authorization',
];

export async function registerGraphqlEndpoint(
  server: HubServer,
  deps: { authenticator: Authenticator; dispatcher: Dispatcher; config: GraphqlConfig },
): Promise<{ close(): Promise<void> }> {
  const { config, dispatcher } = deps;
  const traceIds = new TraceIds();
  let supergraph: string | undefined;
  let lastError: string | undefined;
  const compose = async () => {
    try {
      supergraph = await composeSupergraph(config.subgraphs, dispatcher, config.timeoutMs);
      lastError = undefined;
    } catch (error) {
      // `lastError` reaches callers (the 503 problem): only a CompositionError's message is
      // written for them; the raw error, with whatever address it quotes, goes to the log.
      lastError =
        error instanceof CompositionError ? error.message : 'composing the supergraph failed';
      server.log.warn({ err: error }, 'graphql: composing the supergraph failed');
    }
  };
  await compose();
  const poll = setInterval(() => void compose(), config.pollSeconds * 1000);
  poll.unref();

  // `timeoutMs` bounds every subgraph call (headers and body), as it bounds the SDL fetch:
  // without it a subgraph that never answered held the caller's request open for good.
  // (Not the runtime's `upstreamTimeout`: when a subgraph call fails synchronously its
  // timer still fires later and rejects a promise nobody awaits, which ends the process.)
  // A subscription's event stream is the exception once it has begun: it lasts as long as
  // the caller listens (upstreamCancellation ends it when the caller leaves).
  const guardedFetch = (async (
    url: string,
    init?: { signal?: AbortSignal | null; headers?: Record<string, string> },
  ) => {
    const deadline = new AbortController();
    const timer = setTimeout(
      () => deadline.abort(new DOMException('subgraph call timed out', 'TimeoutError')),
      config.timeoutMs,
    );
    timer.unref();
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline.signal]) : deadline.signal;
    try {
      const response = await undiciFetch(url, { ...init, signal, dispatcher } as never);
      if (isEventStream(response.headers.get('content-type')) && asksForEventStream(init?.headers))
        clearTimeout(timer);
      return response;
    } catch (error) {
      if (!deadline.signal.aborted) throw error;
      // A GraphQL answer the runtime reports as this subgraph's error (the abort itself
      // would be masked as an unexpected one).
      return Response.json(
        {
          errors: [
            {
              message: `no answer within ${config.timeoutMs} ms`,
              extensions: { code: 'GATEWAY_TIMEOUT' },
            },
          ],
        },
        { status: 504 },
      );
    }
  }) as never;
  const runtime = createGatewayRuntime({
    supergraph: () => {
      if (!supergraph) throw new Error(lastError ?? 'no supergraph yet');
      return supergraph;
    },
    pollingInterval: config.pollSeconds * 1000,
    // Subgraph calls follow the signal of the Request handed to `runtime.fetch` (aborted when
    // the caller leaves); without this the runtime ignores it and they ran on until
    // `timeoutMs` for nobody.
    upstreamCancellation: true,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    logging: false,
    // Never `isDev` (Yoga's default with NODE_ENV=development): it adds a masked error's
    // original error to the answer, and a failed subgraph call's quotes the subgraph's address.
    maskedErrors: { isDev: false },
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) =>
        Object.fromEntries(
          PROPAGATED.map((name) => [name, request.headers.get(name)]).filter(([, v]) => v),
        ),
    },
    plugins: () => [
      useCustomFetch(guardedFetch),
      useDocumentLimits() as never,
      useRequestParamErrors() as never,
      useOperationLimits() as never,
    ],
  });

  await server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: config.maxRequestBytes },
      (_request, body, done) => done(null, body),
    );
    scope.route({
      method: ['GET', 'POST'],
      url: '/graphql',
      // The handler authenticates (any valid token plus `graphql.scopes`).
      config: { public: true },
      schema: { hide: true },
      handler: (request, reply) => handle(request, reply),
    });
  });

  async function handle(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const principal = await requirePrincipal(deps.authenticator, request);
    const missing = principal.scopes.has('admin')
      ? []
      : config.scopes.filter((s) => !principal.scopes.has(s));
    if (missing.length > 0)
      throw problems.forbidden(`/graphql needs the scopes "${missing.join('", "')}"`);
    if (!supergraph)
      throw problems.unavailable(
        `the federated graph is not available: ${lastError ?? 'composing'}`,
      );
    const headers = upstreamRequestHeaders(request.headers, {
      principal,
      requestId: request.id,
      clientIp: request.ip,
      protocol: request.protocol,
      host: request.host,
      forwardAuthorization: config.forwardAuthorization,
      traceIds,
    });
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    // Aborted when the caller leaves before the answer is written (the response closes
    // unfinished), so the runtime cancels the subgraph calls instead of running them on until
    // `timeoutMs` for nobody.
    const left = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) left.abort(new Error('the client closed the connection'));
    };
    reply.raw.once('close', onClose);
    if (reply.raw.destroyed) onClose();
    let response: Response;
    try {
      response = await runtime.fetch(`http://localhost${request.url}`, {
        method: request.method,
        headers,
        signal: left.signal,
        ...(body && request.method === 'POST' ? { body } : {}),
      });
    } catch (error) {
      // The caller left (the runtime rejects with the abort): nobody to answer, and no hub
      // failure to log as a 500. 499 is the usual "client closed request" status.
      if (left.signal.aborted) return reply.code(499).send();
      throw error;
    }
    if (response.status >= 400 && response.body === null) throw emptyRefusal(request, response);
    reply.code(response.status);
    response.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding') reply.header(name, value);
    });
    // A subscription answers as it goes (server-sent events, or multipart for incremental
    // delivery); anything else is sent whole.
    const type = response.headers.get('content-type');
    if (response.body && (isEventStream(type) || type?.startsWith('multipart/mixed')))
      return reply.send(Readable.from(chunksOf(response.body)));
    return reply.send(Buffer.from(await response.arrayBuffer()));
  }

  return {
    close: async () => {
      clearInterval(poll);
      await runtime.dispose();
    },
  };
}

/**
 * The chunks of a web stream as they come (the runtime's stream is a ponyfill, which
 * `Readable.fromWeb` refuses); when the caller leaves, the stream is cancelled.
 */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      yield chunk.value;
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

const isEventStream = (contentType: string | null) =>
  contentType?.toLowerCase().startsWith('text/event-stream') === true;

/** Whether the runtime's call asked a subgraph for an event stream (a subscription). */
function asksForEventStream(headers: unknown): boolean {
  const accept =
    headers instanceof Headers
      ? headers.get('accept')
      : (headers as Record<string, string> | undefined)?.['accept'];
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

/**
 * The runtime refuses a media type it cannot read (415) or write (406) with an empty body:
 * a problem that says what it takes instead.
 */
function emptyRefusal(request: FastifyRequest, response: Response): ProblemError {
  if (response.status === 415)
    return problems.unsupportedMediaType(
      `POST /graphql takes application/json or application/graphql, not "${request.headers['content-type'] ?? 'no content type'}"`,
    );
  if (response.status === 406)
    return new ProblemError({
      status: 406,
      type: ProblemType.validation,
      title: 'Not acceptable',
      detail: `/graphql answers ${response.headers.get('accept') ?? 'application/json'}; the request accepts only "${request.headers.accept}"`,
    });
  return new ProblemError({
    status: response.status,
    type: ProblemType.validation,
    title: 'Bad request',
    detail: `the GraphQL runtime refused the request (${response.status} ${response.statusText})`,
  });
}
