import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Authenticator, Principal, Scope } from '../auth/principal.ts';
import { hasScope } from '../auth/principal.ts';
import { parseBearer } from '../auth/bearer.ts';
import { principalFor } from './request-principal.ts';
import { registerHubCors, type HubCorsConfig } from './hub-cors.ts';
import { requestLogSummary } from './request-log.ts';
import { AccessLog } from './access-log.ts';
import { answerClientError } from './client-errors.ts';
import { deeperThan, tooDeepDetail } from './json-depth.ts';
import { ProblemError, ProblemType, problems, type FieldError } from './problem.ts';
import { rejectUnstorableValues } from './unstorable-values.ts';
import { createValidatorCompiler } from './validator-compiler.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every route that declares a scope. */
    principal: Principal;
  }
  interface FastifyContextConfig {
    /** The scope a route needs. Every route declares either a scope or `public: true`. */
    scope?: Scope;
    public?: boolean;
  }
}

export type HttpServerOptions = {
  authenticator: Authenticator;
  logLevel: string;
  bodyLimit: number;
  version: string;
  /** Cross-origin access to the hub's own API (`http.cors`); absent or no origins: none. */
  cors?: HubCorsConfig;
  /** Where log lines go (default standard output; tests read them). */
  logStream?: { write(line: string): void };
};

export type HubServer = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  TypeBoxTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/**
 * The longest path parameter, as sent (percent-encoded): an event id of 256 characters, the
 * most ingest accepts, each one up to 9 once encoded (3 UTF-8 bytes). Fastify's default of
 * 100 made longer ids, which ingest accepts, impossible to fetch (414).
 */
const MAX_PATH_PARAMETER = 256 * 9;

/** Fastify with Portico's cross-cutting concerns: request ids, problem+json, auth, OpenAPI. */
export async function createHttpServer(options: HttpServerOptions): Promise<HubServer> {
  const server = Fastify({
    logger: {
      level: options.logLevel,
      // Tokens, cookies and stream tickets never reach the logs.
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      serializers: { req: requestLogSummary },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    logController: new AccessLog(),
    bodyLimit: options.bodyLimit,
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER },
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    forceCloseConnections: 'idle',
    // Errors raised before routing (a malformed URL, an over-long path parameter) too.
    frameworkErrors: replyWithProblem,
    // And those of Node's HTTP parser, before Fastify sees a request.
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  server.setValidatorCompiler(createValidatorCompiler());
  server.decorateRequest('principal', null as unknown as Principal);

  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Portico',
        version: options.version,
        description: 'The integration hub for enterprise portals built from many micro-apps.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });

  server.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { scope?: Scope; public?: boolean };
    if (route.url.startsWith('/documentation')) return;
    if (!config.scope && !config.public && !route.url.startsWith('/openapi'))
      throw new Error(
        `route ${route.method} ${route.url} declares neither a scope nor public: true`,
      );
    // After validation, on routes that validate input: see unstorable-values.ts.
    const schema = route.schema as Record<string, unknown> | undefined;
    if (schema && (schema.body || schema.querystring || schema.query || schema.params))
      route.preHandler = [rejectUnstorableValues, ...[route.preHandler ?? []].flat()];
    if (config.scope) {
      const scope = config.scope;
      route.schema = { ...route.schema, security: [{ bearer: [scope] }] };
      // Only routes with a scope run the auth hook (after the global hooks, CORS included):
      // public routes, the gateway's among them, pay for no hook and no routeOptions lookup.
      // Callback style, not async: a token verified before is answered without a promise.
      const authenticate = (
        request: FastifyRequest,
        _reply: FastifyReply,
        done: (error?: Error) => void,
      ): void => {
        const authorize = (principal: Principal): void => {
          request.principal = principal;
          if (hasScope(principal, scope)) done();
          else done(problems.forbidden(`this operation needs the scope "${scope}"`));
        };
        const principal = principalFor(
          options.authenticator,
          parseBearer(request.headers.authorization),
        );
        if (principal instanceof Promise) principal.then(authorize, done);
        else authorize(principal);
      };
      route.onRequest = [...[route.onRequest ?? []].flat(), authenticate];
    }
  });

  // Every body the API takes is JSON (routes that take others parse them in their own
  // scope): a text/plain body would only fail validation with "must be object".
  server.removeContentTypeParser('text/plain');
  // JSON bodies as Fastify parses them, refused past MAX_JSON_DEPTH (see json-depth.ts).
  const json = server.getDefaultJsonParser('error', 'error');
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    // parseAs 'string': the body is a string (typed as string | Buffer).
    json(request, String(body), (error, value) => {
      const pointer = error ? undefined : deeperThan(value);
      if (pointer === undefined) done(error, value);
      else
        done(
          problems.validation(`body is invalid: ${pointer} ${tooDeepDetail()}`, [
            { pointer, detail: tooDeepDetail(), in: 'body' },
          ]),
          undefined,
        );
    }),
  );

  if (options.cors) registerHubCors(server, options.cors);

  server.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  server.setNotFoundHandler((request) => {
    throw problems.notFound(`no route for ${request.method} ${request.url.split('?')[0]}`);
  });

  server.setErrorHandler(replyWithProblem);

  server.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
    server.swagger(),
  );
  return server as unknown as HubServer;
}

function replyWithProblem(
  error: FastifyError | ProblemError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const problem = toProblem(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ status: problem.status, type: problem.type }, problem.message);
  return reply
    .code(problem.status)
    .headers(problem.headers)
    .type('application/problem+json')
    .send(problem.toBody(request.url.split('?')[0]));
}

const FASTIFY_CODES: Record<string, (message: string) => ProblemError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    problems.tooLarge('the request body exceeds the configured limit'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () =>
    problems.unsupportedMediaType(
      'the request body must be JSON: send it with content-type: application/json',
    ),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (m) => problems.validation(m),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    problems.validation('the request body is empty but JSON was declared'),
  FST_ERR_CTP_INVALID_JSON_BODY: (m) =>
    problems.validation(`the request body is not valid JSON: ${m}`),
  FST_ERR_MAX_PARAM_LENGTH: () =>
    new ProblemError({
      status: 414,
      type: ProblemType.validation,
      title: 'URI too long',
      detail: `a path parameter is longer than ${MAX_PATH_PARAMETER} characters (percent-encoded)`,
    }),
  FST_ERR_BAD_URL: () => problems.validation('the request URL is malformed (bad percent-encoding)'),
};

/** Maps anything thrown in a route to a problem; unknown errors become an opaque 500. */
export function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  const e = error as FastifyError & { validationContext?: string };
  if (e.validation) {
    const where = (e.validationContext ?? 'body') as string;
    const location = (
      { body: 'body', querystring: 'query', params: 'path', headers: 'header' } as const
    )[where as 'body'];
    const errors: FieldError[] = e.validation.map((v) => {
      const missing = (v.params as { missingProperty?: string } | undefined)?.missingProperty;
      const pointer = v.instancePath + (missing ? `/${missing}` : '');
      return { pointer: pointer || '/', detail: v.message ?? 'is invalid', in: location ?? 'body' };
    });
    const first = errors[0];
    return problems.validation(
      `${location ?? where} is invalid: ${first ? `${first.pointer} ${first.detail}` : e.message}`,
      errors,
    );
  }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return mapped(e.message);
  if (error instanceof SyntaxError || (e.statusCode === 400 && e.code?.startsWith('FST_')))
    return problems.validation(e.message);
  if ((e as { name?: string }).name === 'StoreUnavailableError')
    return problems.unavailable('the state store is unreachable; retry shortly');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return new ProblemError({
      status: e.statusCode,
      type: ProblemType.validation,
      title: 'Bad request',
      detail: e.message,
    });
  return new ProblemError({
    status: 500,
    type: ProblemType.internal,
    title: 'Internal error',
    detail: 'the hub failed to handle this request; it has been logged',
  });
}
