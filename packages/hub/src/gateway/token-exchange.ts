/**
 * RFC 8693 token exchange for upstreams whose policy asks for it: the caller's access token
 * is traded at the identity provider's token endpoint for a token meant for that upstream
 * (`audience` / `resource` / `scope`), which the gateway sends instead of the caller's.
 * Exchanged tokens are remembered per subject token + request until shortly before their
 * expiry (concurrent requests share one exchange); failures are never remembered.
 */
import { request, type Dispatcher } from 'undici';
import { readAtMost } from './read-at-most.ts';
import { ProblemError, ProblemType } from '../http/problem.ts';
import type { Policy } from '../dictionary/index.ts';

export type TokenExchangeTarget = NonNullable<Policy['tokenExchange']>;

export type TokenExchangeConfig = {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  refreshBeforeSeconds: number;
  maxEntries: number;
};

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

type Entry = { token: Promise<string>; until: number };

/**
 * What `Authorization: Bearer <token>` can carry: visible ASCII, no spaces (RFC 6750 §2.1
 * is stricter still). Anything else (a CR LF, say) would fail every upstream call made with it
 * for as long as it is remembered, each one looking like the upstream's failure.
 */
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;

/** The most of a token endpoint's answer read. */
const MAX_ANSWER_BYTES = 64 * 1024;

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export class TokenExchange {
  readonly #config: TokenExchangeConfig;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #clock: () => number;
  readonly #basic: string;
  readonly #entries = new Map<string, Entry>();

  constructor(
    config: TokenExchangeConfig,
    options: { dispatcher?: Dispatcher; clock?: () => number } = {},
  ) {
    this.#config = config;
    this.#dispatcher = options.dispatcher;
    this.#clock = options.clock ?? Date.now;
    // RFC 6749 §2.3.1: id and secret are form-encoded before the Basic encoding.
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    this.#basic = `Basic ${Buffer.from(`${enc(config.clientId)}:${enc(config.clientSecret)}`).toString('base64')}`;
  }

  /** A token for `target` in exchange for `subjectToken`; a 502 problem when that fails. */
  exchange(subjectToken: string, target: TokenExchangeTarget): Promise<string> {
    const key = `${target.audience ?? ''}\0${target.resource ?? ''}\0${target.scope ?? ''}\0${subjectToken}`;
    const now = this.#clock();
    const hit = this.#entries.get(key);
    if (hit && now < hit.until) return hit.token;
    if (hit) this.#entries.delete(key);
    // Until the answer says how long it lives, concurrent callers share the pending exchange.
    const entry: Entry = { token: Promise.resolve(''), until: Number.POSITIVE_INFINITY };
    entry.token = this.#request(subjectToken, target).then(
      ({ token, expiresIn }) => {
        const until = now + (expiresIn - this.#config.refreshBeforeSeconds) * 1000;
        if (until > this.#clock()) entry.until = until;
        else this.#forget(key, entry);
        return token;
      },
      (error: unknown) => {
        this.#forget(key, entry);
        throw error;
      },
    );
    if (this.#entries.size >= this.#config.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, entry);
    return entry.token;
  }

  /** Drops an entry unless it was already evicted and the key reused. */
  #forget(key: string, entry: Entry): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
  }

  async #request(
    subjectToken: string,
    target: TokenExchangeTarget,
  ): Promise<{ token: string; expiresIn: number }> {
    const form = new URLSearchParams({
      grant_type: GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN,
      requested_token_type: ACCESS_TOKEN,
    });
    if (target.audience) form.set('audience', target.audience);
    if (target.resource) form.set('resource', target.resource);
    if (target.scope) form.set('scope', target.scope);
    let status: number;
    let body: unknown;
    try {
      const response = await request(this.#config.tokenEndpoint, {
        method: 'POST',
        headers: {
          authorization: this.#basic,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        headersTimeout: this.#config.timeoutMs,
        bodyTimeout: this.#config.timeoutMs,
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      });
      status = response.statusCode;
      // Read up to MAX_ANSWER_BYTES: a token answer is a few kB, and an endpoint answering
      // without end must not fill the hub's memory.
      const text = (await readAtMost(response.body, MAX_ANSWER_BYTES))?.toString('utf8');
      body = text === undefined ? undefined : parseJsonOrUndefined(text);
    } catch {
      throw exchangeFailed('the token endpoint could not be reached');
    }
    const answer = (body ?? {}) as Record<string, unknown>;
    if (status !== 200) {
      // RFC 6749 §5.2 error codes are safe to pass on; descriptions may not be.
      const code = typeof answer.error === 'string' ? ` (${answer.error.slice(0, 64)})` : '';
      throw exchangeFailed(`the token endpoint refused the exchange: ${status}${code}`);
    }
    const token = answer.access_token;
    const type = String(answer.token_type ?? '').toLowerCase();
    if (
      typeof token !== 'string' ||
      !SENDABLE_TOKEN.test(token) ||
      (type !== 'bearer' && type !== 'n_a')
    )
      throw exchangeFailed('the token endpoint answered without a bearer access_token');
    // No expires_in: the token is used for this request only.
    const expiresIn = Number(answer.expires_in ?? 0);
    return { token, expiresIn: Number.isFinite(expiresIn) ? expiresIn : 0 };
  }
}

export function exchangeFailed(detail: string): ProblemError {
  return new ProblemError({
    status: 502,
    type: ProblemType.upstream,
    title: 'Bad gateway',
    detail: `token exchange for the upstream failed: ${detail}`,
  });
}
