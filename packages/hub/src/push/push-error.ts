/**
 * Errors of the push gateway, independent of the wire: HTTP routes turn them into problem
 * documents (toProblem), the WebSocket protocol into `error` messages with the same code.
 */
import { ProblemError, ProblemType, problems, type FieldError } from '../http/problem.ts';

export type PushErrorCode =
  'invalid' | 'unauthorized' | 'forbidden' | 'not-found' | 'conflict' | 'limit' | 'unavailable';

export class PushError extends Error {
  override name = 'PushError';
  readonly code: PushErrorCode;
  readonly errors: FieldError[] | undefined;

  constructor(code: PushErrorCode, detail: string, errors?: FieldError[]) {
    super(detail);
    this.code = code;
    this.errors = errors;
  }
}

export function pushErrorToProblem(error: PushError): ProblemError {
  switch (error.code) {
    case 'invalid':
      return problems.validation(error.message, error.errors);
    case 'unauthorized':
      return problems.unauthorized(error.message);
    case 'forbidden':
      return problems.forbidden(error.message);
    case 'not-found':
      return problems.notFound(error.message);
    case 'conflict':
      return problems.conflict(error.message);
    case 'unavailable':
      return problems.unavailable(error.message);
    case 'limit':
      return new ProblemError({
        status: 429,
        type: ProblemType.rateLimited,
        title: 'Too many requests',
        detail: error.message,
      });
  }
}
