/**
 * `/graphql`: a federated GraphQL endpoint run by the Hive Gateway runtime (MIT) over the
 * supergraph composed from the configured subgraphs. The caller's token is verified here;
 * subgraphs get the verified tenant, subject and scopes as `x-portico-*` headers (incoming
 * ones are dropped first), the request id and trace context. Subgraph calls go through the
 * gateway's SSRF-guarded undici Agent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createGatewayRuntime, useCustomFetch } from '@graphql-hive/gateway-runtime';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import type { Authenticator } from '../../auth/principal.ts';
import type { HubServer } from '../../http/server.ts';
import { TraceIds } from '../trace-ids.ts';
import { problems } from '../../http/problem.ts';
import { requirePrincipal } from '../../http/request-principal.ts';
import { upstreamRequestHeaders } from '../forward-headers.ts';
import { composeSupergraph, type SubgraphConfig } from './compose-supergraph.ts';

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
      lastError = (error as Error).message;
      server.log.warn({ err: error }, 'graphql: composing the supergraph failed');
    }
  };
  await compose();
  const poll = setInterval(() => void compose(), config.pollSeconds * 1000);
  poll.unref();

  const guardedFetch = ((url: string, init?: Record<string, unknown>) =>
    undiciFetch(url, { ...init, dispatcher } as never)) as never;
  const runtime = createGatewayRuntime({
    supergraph: () => {
      if (!supergraph) throw new Error(lastError ?? 'no supergraph yet');
      return supergraph;
    },
    pollingInterval: config.pollSeconds * 1000,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: false,
    logging: false,
    maskedErrors: true,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request }) =>
        Object.fromEntries(
          PROPAGATED.map((name) => [name, request.headers.get(name)]).filter(([, v]) => v),
        ),
    },
    plugins: () => [useCustomFetch(guardedFetch)],
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
    const response = await runtime.fetch(`http://localhost${request.url}`, {
      method: request.method,
      headers,
      ...(body && request.method === 'POST' ? { body } : {}),
    });
    reply.code(response.status);
    response.headers.forEach((value, name) => {
      if (name !== 'content-length' && name !== 'transfer-encoding') reply.header(name, value);
    });
    return reply.send(Buffer.from(await response.arrayBuffer()));
  }

  return {
    close: async () => {
      clearInterval(poll);
      await runtime.dispose();
    },
  };
}
