/**
 * The gateway's problems, in the hub's one error model. Upstream error responses keep the
 * upstream's status; the gateway's own failures are 502, 503 and 504.
 */
import { ProblemError, ProblemType } from '../http/problem.ts';

const GONE = 'urn:portico:problem:gone';
const METHOD_NOT_ALLOWED = 'urn:portico:problem:method-not-allowed';
/** What the gateway proxies (Fastify routes no other methods but TRACE to it). */
const PROXIED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, QUERY';

export const gatewayProblems = {
  unreachable: () =>
    new ProblemError({
      status: 502,
      type: ProblemType.upstream,
      title: 'Bad gateway',
      detail: 'the upstream could not be reached or closed the connection',
    }),
  blocked: () =>
    new ProblemError({
      status: 502,
      type: ProblemType.upstream,
      title: 'Bad gateway',
      detail: "the upstream's address is not allowed by the gateway's network policy",
    }),
  timeout: (ms: number) =>
    new ProblemError({
      status: 504,
      type: ProblemType.upstream,
      title: 'Gateway timeout',
      detail: `the upstream did not answer within ${ms} ms`,
    }),
  /**
   * The client closed its connection before the answer was through (nginx's 499): never
   * seen by anyone, it is what the request's log line and metrics record.
   */
  clientClosed: () =>
    new ProblemError({
      status: 499,
      type: ProblemType.upstream,
      title: 'Client closed request',
      detail: 'the client closed the connection before the upstream answered',
    }),
  circuitOpen: (retryAfterSeconds: number) =>
    new ProblemError({
      status: 503,
      type: ProblemType.unavailable,
      title: 'Service unavailable',
      detail: 'the upstream is failing; the gateway stopped calling it for a while',
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  rateLimited: (detail: string, retryAfterSeconds: number, headers: Record<string, string>) =>
    new ProblemError({
      status: 429,
      type: ProblemType.rateLimited,
      title: 'Too many requests',
      detail,
      headers: { ...headers, 'retry-after': String(retryAfterSeconds) },
    }),
  methodNotAllowed: (method: string) =>
    new ProblemError({
      status: 405,
      type: METHOD_NOT_ALLOWED,
      title: 'Method not allowed',
      detail: `the gateway does not proxy ${method} requests`,
      headers: { allow: PROXIED_METHODS },
    }),
  gone: (detail: string, headers: Record<string, string>) =>
    new ProblemError({ status: 410, type: GONE, title: 'Gone', detail, headers }),
  /** An upstream's own error response that was not already problem+json. */
  upstream: (status: number, body: unknown) =>
    new ProblemError({
      status,
      type: ProblemType.upstream,
      title: 'Upstream error',
      detail: `the upstream answered ${status}`,
      ...(body !== undefined ? { extensions: { upstream: body } } : {}),
    }),
};
