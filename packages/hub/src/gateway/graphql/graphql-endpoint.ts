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
import { readAtMost } from '../read-at-most.ts';
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
  /**
   * Open subscription streams (server-sent events or multipart) per tenant on this node. Each
   * holds a connection from the caller and one to a subgraph for as long as the caller
   * listens: without a bound one tenant's callers could take every socket of the node.
   */
  maxSubscriptionsPerTenant: number;
};

/**
 * The most of a subgraph's answer read: a whole answer, or one event of a subscription's
 * stream. The runtime read a plain answer whole within `timeoutMs` (one answering without end
 * filled 1 GB in the default 10 s), and an event stream's text up to its next blank line
 * without bound (a stream without one grew, rescanned on every chunk, for as long as the
 * caller listened).
 */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** How long a stream ended at shutdown may take to reach a caller who does not read. */
const SHUTDOWN_GRACE_MS = 1000;

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
      const head = {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers as unknown as Headers,
      };
      if (
        isEventStream(response.headers.get('content-type')) &&
        asksForEventStream(init?.headers)
      ) {
        clearTimeout(timer);
        const stream = response.body as ReadableStream<Uint8Array> | null;
        return new Response(stream && eventsOf(stream), head);
      }
      // Read here, within the deadline and up to MAX_ANSWER_BYTES (the runtime reads whole).
      const body = response.body && (await readAtMost(response.body, MAX_ANSWER_BYTES));
      clearTimeout(timer);
      if (body === undefined)
        return errorAnswer(
          `answered more than ${MAX_ANSWER_BYTES} bytes`,
          'SUBGRAPH_ANSWER_TOO_LARGE',
          502,
        );
      return new Response(body?.length ? (body as Uint8Array<ArrayBuffer>) : null, head);
    } catch (error) {
      if (!deadline.signal.aborted) throw error;
      // A GraphQL answer the runtime reports as this subgraph's error (the abort itself
      // would be masked as an unexpected one).
      return errorAnswer(`no answer within ${config.timeoutMs} ms`, 'GATEWAY_TIMEOUT', 504);
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

  // Subscription streams last as long as their callers listen: the server's close (which
  // waits for every connection) would wait for them for good. They end first.
  const streams = new Set<() => void>();
  const openStreams = new Map<string, number>();
  server.addHook('preClose', (done) => {
    for (const end of streams) end();
    done();
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
      return stream(principal.tenant, response.body, reply);
    return reply.send(Buffer.from(await response.arrayBuffer()));
  }

  /**
   * Sends a subscription's answer as it comes, as one of the tenant's open streams (a 429
   * problem past `maxSubscriptionsPerTenant`); the hub's shutdown ends it.
   */
  function stream(tenant: string, body: ReadableStream<Uint8Array>, reply: FastifyReply) {
    const count = openStreams.get(tenant) ?? 0;
    if (count >= config.maxSubscriptionsPerTenant) {
      void body.cancel().catch(() => undefined);
      throw new ProblemError({
        status: 429,
        type: ProblemType.rateLimited,
        title: 'Too many subscriptions',
        detail: `tenant "${tenant}" already has ${config.maxSubscriptionsPerTenant} open GraphQL subscriptions on this node (the limit: gateway.graphql.maxSubscriptionsPerTenant)`,
      });
    }
    openStreams.set(tenant, count + 1);
    const stop = new AbortController();
    const end = () => {
      stop.abort();
      // The connection closes with the stream (a kept-alive one held the shutdown until its
      // keep-alive timeout), and a caller who does not read cannot hold it open.
      const socket = reply.raw.socket;
      reply.raw.once('finish', () => socket?.end());
      setTimeout(() => socket?.destroy(), SHUTDOWN_GRACE_MS).unref();
    };
    streams.add(end);
    reply.raw.once('close', () => {
      streams.delete(end);
      const left = (openStreams.get(tenant) ?? 1) - 1;
      if (left > 0) openStreams.set(tenant, left);
      else openStreams.delete(tenant);
    });
    return reply.send(Readable.from(chunksOf(body, stop.signal)));
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
 * `Readable.fromWeb` refuses); when the caller leaves, or `stop` aborts, the stream is
 * cancelled (and with it the subgraph call).
 */
async function* chunksOf(
  body: ReadableStream<Uint8Array>,
  stop: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  stop.addEventListener('abort', cancel, { once: true });
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      yield chunk.value;
  } finally {
    stop.removeEventListener('abort', cancel);
    await reader.cancel().catch(() => undefined);
  }
}

/** A GraphQL answer with one error, which the runtime reports as the subgraph's. */
function errorAnswer(message: string, code: string, status: number): Response {
  return Response.json({ errors: [{ message, extensions: { code } }] }, { status });
}

const EVENT_END = Buffer.from('\n\n');

/**
 * A subgraph's event stream passed on whole events at a time (a chunk ends where an event
 * does). The runtime's reader looks for an event's end from its start again on every chunk
 * and keeps the text until it finds one: an event without end grew without bound, each
 * chunk costing more. It also decodes each chunk alone, so a character split between two
 * chunks arrived garbled. An event over MAX_ANSWER_BYTES ends the stream with an error.
 */
function eventsOf(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lastByte = -1;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          if (pendingBytes > 0) controller.enqueue(Buffer.concat(pending));
          return controller.close();
        }
        if (value.byteLength === 0) continue;
        const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
        const last = chunk.lastIndexOf(EVENT_END);
        // Where the last complete event ends in this chunk (its `\n\n` may start in the last).
        const end = last !== -1 ? last + 2 : lastByte === 0x0a && chunk[0] === 0x0a ? 1 : 0;
        lastByte = chunk[chunk.length - 1]!;
        if (end > 0) {
          controller.enqueue(Buffer.concat([...pending, chunk.subarray(0, end)]));
          pending = end < chunk.length ? [chunk.subarray(end)] : [];
          pendingBytes = chunk.length - end;
        } else {
          pending.push(chunk);
          pendingBytes += chunk.length;
        }
        if (pendingBytes > MAX_ANSWER_BYTES) {
          const error = {
            message: `sent an event of more than ${MAX_ANSWER_BYTES} bytes`,
            extensions: { code: 'SUBGRAPH_ANSWER_TOO_LARGE' },
          };
          controller.enqueue(
            Buffer.from(`event: next\ndata: ${JSON.stringify({ errors: [error] })}\n\n`),
          );
          controller.close();
          await reader.cancel().catch(() => undefined);
          return;
        }
        if (end > 0) return;
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
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
