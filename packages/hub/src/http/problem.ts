/**
 * RFC 9457 problem details: the one error model of every Portico HTTP response >= 400.
 * Throw a ProblemError anywhere in a route; the error handler (http/server.ts) renders it.
 */

/** Stable problem type URIs. Clients may switch on these; never change a published one. */
export const ProblemType = {
  validation: 'urn:portico:problem:validation',
  invalidEvent: 'urn:portico:problem:invalid-event',
  eventRejected: 'urn:portico:problem:event-rejected',
  unauthorized: 'urn:portico:problem:unauthorized',
  forbidden: 'urn:portico:problem:forbidden',
  notFound: 'urn:portico:problem:not-found',
  conflict: 'urn:portico:problem:conflict',
  preconditionFailed: 'urn:portico:problem:precondition-failed',
  tooLarge: 'urn:portico:problem:payload-too-large',
  unsupportedMediaType: 'urn:portico:problem:unsupported-media-type',
  rateLimited: 'urn:portico:problem:rate-limited',
  unavailable: 'urn:portico:problem:unavailable',
  upstream: 'urn:portico:problem:upstream',
  internal: 'urn:portico:problem:internal',
} as const;

export type FieldError = {
  /** JSON pointer (RFC 6901) into the part of the request named by `in`. */
  pointer: string;
  detail: string;
  /** Which part of the request the pointer refers to; the body when absent. */
  in?: 'body' | 'query' | 'path' | 'header';
};

export type ProblemBody = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
};

export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(options: {
    status: number;
    type: string;
    title: string;
    detail: string;
    errors?: FieldError[];
    extensions?: Record<string, unknown>;
    headers?: Record<string, string>;
  }) {
    super(options.detail);
    this.status = options.status;
    this.type = options.type;
    this.title = options.title;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toBody(instance?: string): ProblemBody {
    return {
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const problems = {
  validation: (detail: string, errors?: FieldError[]) =>
    new ProblemError({
      status: 400,
      type: ProblemType.validation,
      title: 'Invalid request',
      detail,
      errors,
    }),
  invalidEvent: (detail: string, errors: FieldError[], extensions?: Record<string, unknown>) =>
    new ProblemError({
      status: 400,
      type: ProblemType.invalidEvent,
      title: 'Invalid CloudEvent',
      detail,
      errors,
      extensions,
    }),
  unauthorized: (detail: string) =>
    new ProblemError({
      status: 401,
      type: ProblemType.unauthorized,
      title: 'Unauthorized',
      detail,
      headers: { 'www-authenticate': 'Bearer realm="portico"' },
    }),
  forbidden: (detail: string) =>
    new ProblemError({ status: 403, type: ProblemType.forbidden, title: 'Forbidden', detail }),
  notFound: (detail: string) =>
    new ProblemError({ status: 404, type: ProblemType.notFound, title: 'Not found', detail }),
  conflict: (detail: string, extensions?: Record<string, unknown>) =>
    new ProblemError({
      status: 409,
      type: ProblemType.conflict,
      title: 'Conflict',
      detail,
      extensions,
    }),
  preconditionFailed: (detail: string) =>
    new ProblemError({
      status: 412,
      type: ProblemType.preconditionFailed,
      title: 'Precondition failed',
      detail,
    }),
  tooLarge: (detail: string) =>
    new ProblemError({
      status: 413,
      type: ProblemType.tooLarge,
      title: 'Payload too large',
      detail,
    }),
  unsupportedMediaType: (detail: string) =>
    new ProblemError({
      status: 415,
      type: ProblemType.unsupportedMediaType,
      title: 'Unsupported media type',
      detail,
    }),
  unavailable: (detail: string) =>
    new ProblemError({
      status: 503,
      type: ProblemType.unavailable,
      title: 'Service unavailable',
      detail,
    }),
};
