/**
 * CORS from the operator's config, for the gateway's routes and (http/hub-cors.ts) the
 * hub's own API: not per API or tenant, since a preflight carries no token, so the tenant
 * and its dictionary are unknown when it must be answered.
 */
export type CorsConfig = {
  origins: string[];
  credentials: boolean;
  maxAgeSeconds: number;
  /** Header names, lowercase; `ce-*` allows every name with that prefix. */
  allowHeaders: string[];
  exposeHeaders: string[];
};

const METHOD_LIST = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const METHODS = METHOD_LIST.join(', ');

export class Cors {
  readonly #config: CorsConfig;
  readonly #any: boolean;
  readonly #origins: Set<string>;
  readonly #exactHeaders: Set<string>;
  readonly #headerPrefixes: string[];

  constructor(config: CorsConfig) {
    this.#config = config;
    this.#any = config.origins.includes('*');
    this.#origins = new Set(config.origins);
    const headers = config.allowHeaders.map((h) => h.toLowerCase());
    this.#exactHeaders = new Set(headers.filter((h) => !h.endsWith('*')));
    this.#headerPrefixes = headers.filter((h) => h.endsWith('*')).map((h) => h.slice(0, -1));
  }

  /** Whether `origin` may make cross-origin calls at all. */
  allows(origin: string): boolean {
    return this.#allowed(origin);
  }

  /**
   * Why a preflight asks for more than is allowed (its method, or one of its request
   * headers, lowercase), or undefined when the browser may go ahead.
   */
  refusal(method: string, requestHeaders: readonly string[]): string | undefined {
    if (!METHOD_LIST.includes(method.toUpperCase()))
      return `the method ${method} is not allowed cross-origin (allowed: ${METHODS})`;
    const refused = requestHeaders.filter((h) => !this.#headerAllowed(h));
    if (refused.length > 0)
      return `the request header${refused.length > 1 ? 's' : ''} ${refused.join(', ')} ${refused.length > 1 ? 'are' : 'is'} not allowed cross-origin (allowed: ${this.#config.allowHeaders.join(', ')})`;
    return undefined;
  }

  /** Headers for an actual (non-preflight) response; empty when the origin is not allowed. */
  responseHeaders(origin: string | undefined): Record<string, string> {
    if (!origin || !this.#allowed(origin)) return {};
    return {
      'access-control-allow-origin': this.#any && !this.#config.credentials ? '*' : origin,
      ...(this.#config.credentials ? { 'access-control-allow-credentials': 'true' } : {}),
      ...(this.#config.exposeHeaders.length > 0
        ? { 'access-control-expose-headers': this.#config.exposeHeaders.join(', ') }
        : {}),
      vary: 'origin',
    };
  }

  /**
   * Headers answering a preflight, or undefined when the origin is not allowed. The
   * allowed request headers are the configured names plus those of `requestHeaders` a
   * prefix pattern allows (a pattern itself means nothing to a browser).
   */
  preflightHeaders(
    origin: string | undefined,
    requestHeaders: readonly string[] = [],
  ): Record<string, string> | undefined {
    if (!origin || !this.#allowed(origin)) return undefined;
    return {
      'access-control-allow-origin': this.#any && !this.#config.credentials ? '*' : origin,
      ...(this.#config.credentials ? { 'access-control-allow-credentials': 'true' } : {}),
      'access-control-allow-methods': METHODS,
      'access-control-allow-headers': [
        ...this.#exactHeaders,
        ...requestHeaders.filter((h) => !this.#exactHeaders.has(h) && this.#headerAllowed(h)),
      ].join(', '),
      'access-control-max-age': String(this.#config.maxAgeSeconds),
      vary: 'origin, access-control-request-method, access-control-request-headers',
    };
  }

  #headerAllowed(name: string): boolean {
    const h = name.toLowerCase();
    return this.#exactHeaders.has(h) || this.#headerPrefixes.some((p) => h.startsWith(p));
  }

  #allowed(origin: string): boolean {
    return this.#any || this.#origins.has(origin);
  }
}
