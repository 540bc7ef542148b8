/**
 * The registry's errors: problem+json like every Portico error, plus the two fields that
 * Confluent Schema Registry clients read (`error_code`, `message`), with Confluent's codes.
 */
import { ProblemError, ProblemType, type FieldError } from '../http/problem.ts';

/** Confluent's error codes that Portico uses. */
export const ErrorCode = {
  subjectNotFound: 40401,
  versionNotFound: 40402,
  schemaNotFound: 40403,
  subjectSoftDeleted: 40404,
  subjectNotSoftDeleted: 40405,
  versionSoftDeleted: 40406,
  versionNotSoftDeleted: 40407,
  subjectConfigNotFound: 40408,
  incompatible: 409,
  invalidSchema: 42201,
  invalidVersion: 42202,
  invalidCompatibilityLevel: 42203,
  referenceExists: 42206,
} as const;

const TITLES: Record<number, string> = {
  404: 'Not found',
  409: 'Conflict',
  422: 'Unprocessable schema request',
};

const TYPES: Record<number, string> = {
  404: ProblemType.notFound,
  409: ProblemType.conflict,
  422: ProblemType.validation,
};

export function registryProblem(
  status: 404 | 409 | 422,
  errorCode: number,
  detail: string,
  options: { errors?: FieldError[]; extensions?: Record<string, unknown> } = {},
): ProblemError {
  return new ProblemError({
    status,
    type: TYPES[status]!,
    title: TITLES[status]!,
    detail,
    errors: options.errors,
    extensions: { error_code: errorCode, message: detail, ...options.extensions },
  });
}

/**
 * Any problem raised under the registry prefix (a Fastify body check, a 401) gets the
 * Confluent fields too, so a Confluent client shows the detail instead of "Error, status …".
 */
export function withConfluentFields(problem: ProblemError): ProblemError {
  if ('error_code' in problem.extensions) return problem;
  return new ProblemError({
    status: problem.status,
    type: problem.type,
    title: problem.title,
    detail: problem.message,
    errors: problem.errors,
    headers: problem.headers,
    extensions: {
      ...problem.extensions,
      error_code: problem.status === 400 ? 42200 : problem.status,
      message: problem.message,
    },
  });
}

export const notFound = {
  subject: (subject: string) =>
    registryProblem(404, ErrorCode.subjectNotFound, `subject "${subject}" not found`),
  version: (subject: string, version: number | string) =>
    registryProblem(
      404,
      ErrorCode.versionNotFound,
      `version ${version} of subject "${subject}" not found`,
    ),
  schema: (detail: string) => registryProblem(404, ErrorCode.schemaNotFound, detail),
};
