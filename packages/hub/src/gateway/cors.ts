/**
 * CORS for the gateway's routes, from the operator's config (not per API: a preflight
 * carries no token, so the tenant and its dictionary are unknown when it must be answered).
 */
export type CorsConfig = {
  origins: string[];
  credentials: boolean;
  maxAgeSeconds: number;
  allowHeaders: string[];
  exposeHeaders: string[];
};

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

export class Cors {
  readonly #config: CorsConfig;
  readonly #any: boolean;
  readonly #origins: Set<string>;

  constructor(config: CorsConfig) {
    this.#config = config;
    this.#any = config.origins.includes('*');
    this.#origins = new Set(config.origins);
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

  /** Headers answering a preflight, or undefined when the origin is not allowed. */
  preflightHeaders(origin: string | undefined): Record<string, string> | undefined {
    if (!origin || !this.#allowed(origin)) return undefined;
    return {
      'access-control-allow-origin': this.#any && !this.#config.credentials ? '*' : origin,
      ...(this.#config.credentials ? { 'access-control-allow-credentials': 'true' } : {}),
      'access-control-allow-methods': METHODS,
      'access-control-allow-headers': this.#config.allowHeaders.join(', '),
      'access-control-max-age': String(this.#config.maxAgeSeconds),
      vary: 'origin, access-control-request-method, access-control-request-headers',
    };
  }

  #allowed(origin: string): boolean {
    return this.#any || this.#origins.has(origin);
  }
}
