/**
 * A shared response cache for GET/HEAD, keyed per tenant (one tenant never gets another's
 * entry) and by the upstream URL, with the variants the upstream's `Vary` names. Stores only
 * what a shared cache may (RFC 9111 §3): no `no-store`, `private`, `no-cache`, no
 * `Set-Cookie`, `Vary: *` never, and a freshness lifetime from `s-maxage` or `max-age`; the
 * answer to a request that carried `Authorization` only with `public`, `s-maxage` or
 * `must-revalidate` (§3.5: it is that caller's answer otherwise). Bounded by total bytes
 * (bodies, headers, keys and the varied request values alike); the least recently used
 * entries go first; at most MAX_VARIANTS variants per URL (the oldest go), since the varied
 * headers are the caller's to choose.
 */
export type CachedResponse = {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  storedAt: number;
  expiresAt: number;
};

type Variant = { vary: string[]; values: string[]; response: CachedResponse; bytes: number };

const CACHEABLE_STATUS = new Set([200, 203, 204, 301, 404, 410]);
/**
 * Variants kept per URL. Each store and lookup scans a URL's variants: a caller sending a new
 * `Accept-Encoding` (or whatever the upstream varies on) per request must not grow that list.
 */
export const MAX_VARIANTS = 16;

export class ResponseCache {
  readonly #entries = new Map<string, Variant[]>();
  readonly #maxBytes: number;
  readonly #maxEntryBytes: number;
  readonly #clock: () => number;
  #bytes = 0;

  constructor(options: { maxBytes: number; maxEntryBytes: number; clock?: () => number }) {
    this.#maxBytes = options.maxBytes;
    this.#maxEntryBytes = options.maxEntryBytes;
    this.#clock = options.clock ?? Date.now;
  }

  get size(): number {
    return this.#bytes;
  }

  static key(tenant: string, url: string): string {
    return `${tenant}\0${url}`;
  }

  /** A fresh stored response for this request's header values, if any. */
  lookup(key: string, header: (name: string) => string): CachedResponse | undefined {
    const variants = this.#entries.get(key);
    if (!variants) return undefined;
    const now = this.#clock();
    const hit = variants.find(
      (v) => v.response.expiresAt > now && v.vary.every((name, i) => header(name) === v.values[i]),
    );
    if (!hit) return undefined;
    this.#entries.delete(key); // recency: re-insert at the end
    this.#entries.set(key, variants);
    return hit.response;
  }

  /**
   * Stores the response if a shared cache may; returns whether it did. `header`: the
   * request's value of a header the answer varies on; `authorized`: whether the request
   * carried `Authorization` upstream.
   */
  store(
    key: string,
    status: number,
    headers: Record<string, string>,
    body: Buffer,
    header: (name: string) => string,
    authorized = header('authorization') !== '',
  ): boolean {
    const ttl = sharedTtlSeconds(status, headers, authorized);
    if (ttl === undefined) return false;
    const vary = (headers.vary ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    if (vary.includes('*')) return false;
    const values = vary.map(header);
    // Keys (a URL may be 16 KiB) and varied values count too: an empty answer is not free.
    const bytes =
      key.length +
      body.length +
      Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length, 0) +
      vary.reduce((n, name, i) => n + name.length + values[i]!.length, 0);
    if (bytes > this.#maxEntryBytes || bytes > this.#maxBytes) return false;
    const now = this.#clock();
    const variants = (this.#entries.get(key) ?? []).filter((v) => {
      const same = v.vary.join() === vary.join() && v.values.every((x, i) => x === values[i]);
      if (same || v.response.expiresAt <= now) this.#bytes -= v.bytes;
      return !same && v.response.expiresAt > now;
    });
    while (variants.length >= MAX_VARIANTS) this.#bytes -= variants.shift()!.bytes;
    variants.push({
      vary,
      values,
      bytes,
      response: { status, headers, body, storedAt: now, expiresAt: now + ttl * 1000 },
    });
    this.#bytes += bytes;
    this.#entries.delete(key);
    this.#entries.set(key, variants);
    this.#evict();
    return true;
  }

  #evict(): void {
    for (const [key, variants] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) return;
      for (const v of variants) this.#bytes -= v.bytes;
      this.#entries.delete(key);
    }
  }
}

/**
 * The lifetime a shared cache may keep this response for, or undefined if it may not store it.
 * `authorized`: the request carried an `Authorization` header.
 */
export function sharedTtlSeconds(
  status: number,
  headers: Record<string, string>,
  authorized = false,
): number | undefined {
  if (!CACHEABLE_STATUS.has(status) || headers['set-cookie'] !== undefined) return undefined;
  const directives = new Map<string, string | undefined>();
  for (const part of (headers['cache-control'] ?? '').split(',')) {
    const [name, value] = part.trim().toLowerCase().split('=', 2) as [string, string | undefined];
    if (name) directives.set(name, value?.replace(/^"|"$/g, ''));
  }
  if (directives.has('no-store') || directives.has('private') || directives.has('no-cache'))
    return undefined;
  // RFC 9111 §3.5: an answer to an authorized request is the caller's unless it says otherwise.
  if (
    authorized &&
    !directives.has('public') &&
    !directives.has('s-maxage') &&
    !directives.has('must-revalidate')
  )
    return undefined;
  const ttl = Number(directives.get('s-maxage') ?? directives.get('max-age'));
  return Number.isInteger(ttl) && ttl > 0 ? ttl : undefined;
}
