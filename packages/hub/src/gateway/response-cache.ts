/**
 * A shared response cache for GET/HEAD, keyed per tenant (one tenant never gets another's
 * entry) and by the upstream URL, with the variants the upstream's `Vary` names. Stores only
 * what a shared cache may (RFC 9111 §3): no `no-store`, `private`, `no-cache`, no
 * `Set-Cookie`, `Vary: *` never, and a freshness lifetime from `s-maxage` or `max-age`.
 * Bounded by total bytes; the least recently used entries go first.
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

  /** Stores the response if a shared cache may; returns whether it did. */
  store(
    key: string,
    status: number,
    headers: Record<string, string>,
    body: Buffer,
    header: (name: string) => string,
  ): boolean {
    const ttl = sharedTtlSeconds(status, headers);
    if (ttl === undefined) return false;
    const vary = (headers.vary ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    if (vary.includes('*')) return false;
    const bytes =
      body.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (bytes > this.#maxEntryBytes || bytes > this.#maxBytes) return false;
    const now = this.#clock();
    const values = vary.map(header);
    const variants = (this.#entries.get(key) ?? []).filter((v) => {
      const same = v.vary.join() === vary.join() && v.values.every((x, i) => x === values[i]);
      if (same || v.response.expiresAt <= now) this.#bytes -= v.bytes;
      return !same && v.response.expiresAt > now;
    });
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

/** The lifetime a shared cache may keep this response for, or undefined if it may not store it. */
export function sharedTtlSeconds(
  status: number,
  headers: Record<string, string>,
): number | undefined {
  if (!CACHEABLE_STATUS.has(status) || headers['set-cookie'] !== undefined) return undefined;
  const directives = new Map<string, string | undefined>();
  for (const part of (headers['cache-control'] ?? '').split(',')) {
    const [name, value] = part.trim().toLowerCase().split('=', 2) as [string, string | undefined];
    if (name) directives.set(name, value?.replace(/^"|"$/g, ''));
  }
  if (directives.has('no-store') || directives.has('private') || directives.has('no-cache'))
    return undefined;
  const ttl = Number(directives.get('s-maxage') ?? directives.get('max-age'));
  return Number.isInteger(ttl) && ttl > 0 ? ttl : undefined;
}
