/**
 * Runs a composition for one request: every part in parallel through the gateway itself
 * (in-process `inject`, so each part gets the same token, scopes, rate limits, cache and
 * circuit breaker as a direct call), then the JSONata shape. Partial failure is explicit:
 * `parts` says which part failed and why; a required part failing fails the whole, with
 * that part's status.
 */
import type { FastifyRequest } from 'fastify';
import jsonata from 'jsonata';
import type { Principal } from '../../auth/principal.ts';
import type { HubServer } from '../../http/server.ts';
import { deeperThan } from '../../http/json-depth.ts';
import { ProblemError, ProblemType, problems } from '../../http/problem.ts';
import { readAtMost } from '../read-at-most.ts';
import { fillPath, type Composition } from './composition.ts';

export type PartOutcome =
  | { status: 'ok'; httpStatus: number }
  | {
      status: 'failed';
      httpStatus: number;
      error: { type?: string; title?: string; detail?: string };
    };

/**
 * JSONata's own guardrails for a shape's evaluation. Evaluation runs on the event loop
 * without yielding to I/O, so a shape that never ends (`($f := function(){$f()}; $f())`)
 * stalled every tenant's requests on this node, not only its own. Real shapes take
 * milliseconds and a few dozen frames.
 */
const SHAPE_LIMITS = { timeout: 1000, stack: 1000 };

/**
 * The most of a part's answer read. Parts were read whole, whatever their size, and then
 * parsed and shaped: one upstream answering without end held a request (and its memory
 * growing) until the gateway's timeout, per part and per request.
 */
export const MAX_PART_BYTES = 8 * 1024 * 1024;

/**
 * How large a shape's values may grow: any one string (a part's answer holds none longer),
 * any one array, and the result as JSON. Those guardrails bound time and depth, not memory,
 * and a few steps build a lot: `$pad("", 5e8)`, a string doubled thirty times with `&` (a
 * cheap rope until something reads it), `$split` of such a string (which ended the process
 * out of memory), `$join` or `$string` of many references to one large value. Every step's
 * result is measured as the evaluation goes; the built-ins that allocate their whole answer
 * at once are replaced by ones that check first.
 */
export const SHAPE_SIZE_LIMITS = {
  stringChars: MAX_PART_BYTES,
  arrayItems: 1024 * 1024,
  resultBytes: 4 * MAX_PART_BYTES,
};

/** A part's answer as read, or why it could not be read. */
type PartAnswer = { statusCode: number; contentType: string; body: string } | { broken: string };

/** Headers a part's call carries over from the BFF request. */
const CARRIED = [
  'authorization',
  'x-portico-app',
  'x-portico-override',
  'cookie',
  'traceparent',
  'accept-language',
];

export class CompositionRunner {
  readonly #server: HubServer;
  readonly #compiled = new Map<string, jsonata.Expression>();

  constructor(server: HubServer) {
    this.#server = server;
  }

  async run(
    composition: Composition,
    request: FastifyRequest,
    principal: Principal,
  ): Promise<{ data: unknown; parts: Record<string, PartOutcome> }> {
    const query = request.query as Record<string, unknown>;
    const values = { query, subject: principal.subject, tenant: principal.tenant };
    const calls = Object.entries(composition.parts).map(([name, part]) => {
      const filled = fillPath(part.path, values);
      if ('missing' in filled)
        throw problems.validation(`part "${name}" needs the value {${filled.missing}}`, [
          {
            pointer: `/${filled.missing.replace(/^query\./, '')}`,
            detail: 'is required',
            in: 'query',
          },
        ]);
      if ('invalid' in filled)
        throw problems.validation(
          `part "${name}" cannot use "." or ".." as the value of {${filled.invalid}}: it is a path segment`,
          filled.invalid.startsWith('query.')
            ? [
                {
                  pointer: `/${filled.invalid.slice(6)}`,
                  detail: 'must not be "." or ".."',
                  in: 'query',
                },
              ]
            : undefined,
        );
      return { name, part, url: `/api/${part.api}/${part.version}${filled.path}` };
    });
    const headers: Record<string, string> = { 'x-request-id': request.id };
    for (const name of CARRIED) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }

    const responses = await Promise.all(
      calls.map(({ url }) => this.#call(url, headers, request.ip)),
    );

    const parts: Record<string, PartOutcome> = {};
    const input: Record<string, unknown> = {
      query,
      subject: principal.subject,
      tenant: principal.tenant,
    };
    let requiredFailure: { name: string; status: number; detail: string } | undefined;
    responses.forEach((res, i) => {
      const { name, part } = calls[i]!;
      const outcome = outcomeOf(res);
      parts[name] = outcome.outcome;
      input[name] = outcome.body;
      if (outcome.outcome.status === 'failed' && part.required !== false && !requiredFailure)
        requiredFailure = {
          name,
          status: outcome.outcome.httpStatus,
          detail: outcome.outcome.error.detail ?? `answered ${outcome.outcome.httpStatus}`,
        };
    });
    if (requiredFailure)
      throw new ProblemError({
        status: requiredFailure.status,
        type: ProblemType.upstream,
        title: 'A required part failed',
        detail: `the required part "${requiredFailure.name}" failed: ${requiredFailure.detail}`,
        extensions: { parts },
      });

    if (composition.shape === undefined) return { data: input, parts };
    try {
      const data: unknown = (await this.#expression(composition.shape).evaluate(input)) ?? null;
      if (jsonLargerThan(data, SHAPE_SIZE_LIMITS.resultBytes))
        throw new Error(`its result is larger than ${SHAPE_SIZE_LIMITS.resultBytes} bytes as JSON`);
      return { data, parts };
    } catch (error) {
      throw new ProblemError({
        status: 500,
        type: ProblemType.internal,
        title: 'Composition failed',
        detail: `the composition's shape failed: ${(error as Error).message}`,
        extensions: { parts },
      });
    }
  }

  /**
   * One part through the gateway, its answer streamed so that it is read only up to
   * MAX_PART_BYTES; an answer broken off (the upstream reset mid-body) is a failed part, not
   * a rejected inject (which failed the whole request with a 500).
   */
  async #call(url: string, headers: Record<string, string>, ip: string): Promise<PartAnswer> {
    try {
      const res = await this.#server.inject({
        method: 'GET',
        url,
        headers,
        remoteAddress: ip,
        payloadAsStream: true,
      });
      const body = (await readAtMost(res.stream(), MAX_PART_BYTES))?.toString('utf8');
      if (body === undefined) {
        // Closing the in-process response is how the gateway learns to abort the upstream.
        res.raw.res.destroy();
        return { broken: `answered more than ${MAX_PART_BYTES} bytes` };
      }
      return {
        statusCode: res.statusCode,
        contentType: String(res.headers['content-type'] ?? ''),
        body,
      };
    } catch (error) {
      return { broken: `broke off its answer (${(error as Error).message})` };
    }
  }

  #expression(shape: string): jsonata.Expression {
    let expression = this.#compiled.get(shape);
    if (!expression) {
      expression = boundedInSize(jsonata(shape, SHAPE_LIMITS));
      if (this.#compiled.size >= 1000) this.#compiled.clear();
      this.#compiled.set(shape, expression);
    }
    return expression;
  }
}

type Outcome = { outcome: PartOutcome; body: unknown };

function outcomeOf(res: PartAnswer): Outcome {
  if ('broken' in res)
    return {
      outcome: {
        status: 'failed',
        httpStatus: 502,
        error: { type: ProblemType.upstream, title: 'Bad gateway', detail: res.broken },
      },
      body: null,
    };
  const body = parseBody(res.body, res.contentType);
  if (res.statusCode < 400) return { outcome: { status: 'ok', httpStatus: res.statusCode }, body };
  const problem = (typeof body === 'object' && body !== null ? body : {}) as {
    type?: string;
    title?: string;
    detail?: string;
  };
  return {
    outcome: {
      status: 'failed',
      httpStatus: res.statusCode,
      error: { type: problem.type, title: problem.title, detail: problem.detail },
    },
    body: null,
  };
}

function parseBody(text: string, type: string): unknown {
  if (text === '') return null;
  if (/[/+]json\b/.test(type)) {
    try {
      const value: unknown = JSON.parse(text);
      // Too deep to shape or serialise again (see http/json-depth.ts): text, like bad JSON.
      return deeperThan(value) === undefined ? value : text;
    } catch {
      return text;
    }
  }
  return text;
}

/** Thrown, as JSONata's own errors are, when a shape's value passes SHAPE_SIZE_LIMITS. */
function tooLarge(what: string): Error {
  return new Error(`${what} (the shape's size limits)`);
}

/** What JSONata hands a function it calls: `this` has the evaluation's environment. */
type Builtin = { implementation: (...args: unknown[]) => unknown };

/** JSONata's own $pad, $join and $string, which the bounded ones call once they have checked. */
const builtins = jsonata('{"pad": $pad, "join": $join, "string": $string}')
  .evaluate({})
  .then((found) => found as Record<'pad' | 'join' | 'string', Builtin>);

/**
 * `expression` with every step's result measured and the built-ins that allocate checked.
 * The measuring uses JSONata's evaluation-exit hook (`jsonata.__evaluate_exit`, the one its
 * own guardrails sit beside; not a documented API: bff.test.ts pins it).
 */
function boundedInSize(expression: jsonata.Expression): jsonata.Expression {
  const { stringChars, arrayItems } = SHAPE_SIZE_LIMITS;
  expression.assign(
    Symbol.for('jsonata.__evaluate_exit') as never,
    (_expr: unknown, _input: unknown, _env: unknown, result: unknown) => {
      if (typeof result === 'string' && result.length > stringChars)
        throw tooLarge(`a string of more than ${stringChars} characters`);
      if (Array.isArray(result) && result.length > arrayItems)
        throw tooLarge(`an array of more than ${arrayItems} items`);
    },
  );
  const checked = (
    name: 'pad' | 'join' | 'string',
    signature: string,
    check: (...args: never[]) => void,
  ) =>
    expression.registerFunction(
      name,
      async function (this: unknown, ...args: unknown[]) {
        check(...(args as never[]));
        return (await builtins)[name].implementation.apply(this, args);
      },
      signature,
    );
  checked('pad', '<s-ns?:s>', (_str: string, width: number) => {
    if (Math.abs(width) > stringChars)
      throw tooLarge(`$pad to more than ${stringChars} characters`);
  });
  checked('join', '<a<s>s?:s>', (strs: string[] | undefined, separator?: string) => {
    let length = 0;
    for (const s of strs ?? []) length += s.length + (separator?.length ?? 0);
    if (length > stringChars) throw tooLarge(`$join of more than ${stringChars} characters`);
  });
  checked('string', '<x-b?:s>', (value: unknown) => {
    if (jsonLargerThan(value, stringChars))
      throw tooLarge(`$string of more than ${stringChars} characters`);
  });
  return expression;
}

/**
 * Whether `value` as JSON would be longer than `limit` (about: numbers are counted at their
 * longest). One walk that stops at the limit, so a value referring to one large value many
 * times (or to itself) costs no more than the limit.
 */
export function jsonLargerThan(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (Array.isArray(v)) {
      size += 1 + v.length;
      if (size > limit) return true;
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null && !isJsonataFunction(v)) {
      for (const [key, item] of Object.entries(v)) {
        size += key.length + 4;
        stack.push(item);
      }
      size += 2;
    } else size += 24;
    if (size > limit) return true;
  }
  return false;
}

/** A function a shape gave (which serialising refuses: it is no JSON), not data to measure. */
function isJsonataFunction(value: object): boolean {
  return '_jsonata_lambda' in value || '_jsonata_function' in value;
}
