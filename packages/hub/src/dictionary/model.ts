/**
 * The service dictionary's model: APIs grouped by business domain, each with versions; a
 * version has the base URL clients use, the gateway upstream behind it, a lifecycle status
 * with dates, the micro-frontends allowed to see it, and the gateway policy that guards it.
 * The schemas here are the admin API's bodies; `semanticErrors` checks what they cannot say.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FieldError } from '../http/problem.ts';

export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const VERSION_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$';
const NAME_RE = new RegExp(NAME_PATTERN);
/**
 * A tenant id as tokens carry it: `?tenant=` outside it named a tenant no token can hold,
 * yet an admin's write created it.
 */
export { TENANT_PATTERN } from '../auth/principal-from-claims.ts';

/**
 * The slowest refill a bucket may have. The gateway divides by it (the `w=` of
 * RateLimit-Policy, Retry-After, the reset time, a Redis key's expiry): `> 0` let a denormal
 * through, and those became Infinity. At least one token per 1000 s keeps them at most 1e9 s
 * with the largest burst; slower limits are what quotaPerDay is for.
 */
export const MIN_PER_SECOND = 0.001;

const Bucket = Type.Object(
  {
    burst: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Bucket size' }),
    perSecond: Type.Number({
      minimum: MIN_PER_SECOND,
      maximum: 1_000_000,
      description: 'Refill rate, tokens per second (0.001 to 1 000 000)',
    }),
  },
  { additionalProperties: false },
);

export const PolicySchema = Type.Object(
  {
    scopes: Type.Optional(
      Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}$' }), {
        maxItems: 32,
        description: 'Scopes the caller must hold, all of them (`admin` implies every one)',
      }),
    ),
    forwardAuthorization: Type.Optional(
      Type.Boolean({
        description: "Pass the caller's Authorization header upstream (default: stripped)",
      }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 300_000 })),
    retries: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 5,
        description: 'Extra attempts, for idempotent methods only',
      }),
    ),
    rateLimit: Type.Optional(
      Type.Object(
        {
          tenant: Type.Optional(Bucket),
          app: Type.Optional(Bucket),
          client: Type.Optional(Bucket),
        },
        { additionalProperties: false },
      ),
    ),
    quotaPerDay: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Requests per tenant per UTC day (per hub node)' }),
    ),
    maxRequestBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    cache: Type.Optional(
      Type.Boolean({ description: 'Cache GET/HEAD responses the upstream marks cacheable' }),
    ),
    circuitBreaker: Type.Optional(
      Type.Object(
        {
          failures: Type.Integer({ minimum: 1, maximum: 1000 }),
          // A millisecond at least: the breaker's clock cannot tell less from not opening.
          openSeconds: Type.Number({ minimum: 0.001, maximum: 3600 }),
        },
        { additionalProperties: false },
      ),
    ),
    tokenExchange: Type.Optional(
      Type.Object(
        {
          audience: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          resource: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
          scope: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
        },
        {
          additionalProperties: false,
          minProperties: 1,
          description:
            "RFC 8693: the gateway exchanges the caller's token at gateway.tokenExchange's token endpoint for one meant for this upstream, and sends that instead",
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Policy = Static<typeof PolicySchema>;

const Status = Type.Union(
  [Type.Literal('stable'), Type.Literal('deprecated'), Type.Literal('sunset')],
  { description: 'stable | deprecated | sunset' },
);
export type VersionStatus = Static<typeof Status>;

const Apps = Type.Array(Type.String({ pattern: NAME_PATTERN }), {
  maxItems: 256,
  description: 'Micro-frontends allowed to see this version; absent = all',
});

export const VersionSchema = Type.Object(
  {
    version: Type.String({ pattern: VERSION_PATTERN }),
    baseUrl: Type.Optional(
      Type.String({
        maxLength: 2048,
        description:
          'What clients call: an absolute http(s) URL or a path on the hub. Default, when `upstream` is set: `/api/<api>/<version>`',
      }),
    ),
    upstream: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: 'The gateway proxies `/api/<api>/<version>/*` here (never shown to clients)',
      }),
    ),
    status: Type.Optional(Status),
    deprecatedAt: Type.Optional(Type.String({ format: 'date-time' })),
    sunsetAt: Type.Optional(Type.String({ format: 'date-time' })),
    link: Type.Optional(
      Type.String({ maxLength: 2048, description: 'Migration notes for deprecated versions' }),
    ),
    apps: Type.Optional(Apps),
    policy: Type.Optional(PolicySchema),
  },
  { additionalProperties: false },
);
export type VersionInput = Static<typeof VersionSchema>;

export const ApiSchema = Type.Object(
  {
    domain: Type.String({ pattern: NAME_PATTERN, description: 'The business domain' }),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    versions: Type.Array(VersionSchema, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);
export type ApiInput = Static<typeof ApiSchema>;

/** A stored API: the input with defaults applied. */
export type ApiVersion = VersionInput & { status: VersionStatus; baseUrl: string };
export type Api = { name: string; domain: string; description: string; versions: ApiVersion[] };

export const PatchSchema = Type.Object(
  {
    api: Type.String({ pattern: NAME_PATTERN }),
    domain: Type.Optional(
      Type.String({ pattern: NAME_PATTERN, description: 'For an added API; default "default"' }),
    ),
    version: Type.String({ pattern: VERSION_PATTERN }),
    baseUrl: Type.Optional(Type.String({ maxLength: 2048 })),
    upstream: Type.Optional(Type.String({ maxLength: 2048 })),
    status: Type.Optional(Status),
    deprecatedAt: Type.Optional(Type.String({ format: 'date-time' })),
    sunsetAt: Type.Optional(Type.String({ format: 'date-time' })),
    apps: Type.Optional(Apps),
  },
  { additionalProperties: false },
);
export type PatchEntry = Static<typeof PatchSchema>;

export const SettingsSchema = Type.Object(
  {
    refreshSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 86_400, description: 'Reload the dictionary every' }),
    ),
    pollIntervalSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    backoff: Type.Optional(
      Type.Object(
        {
          initialMs: Type.Integer({ minimum: 1, maximum: 600_000 }),
          maxMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
          multiplier: Type.Number({ minimum: 1, maximum: 10 }),
          jitter: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    features: Type.Optional(
      Type.Record(
        Type.String({ pattern: NAME_PATTERN }),
        Type.Union([Type.Boolean(), Type.Number(), Type.String({ maxLength: 256 })]),
        { maxProperties: 256, description: 'Feature switches' },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ClientSettings = Static<typeof SettingsSchema>;

/** The upstream URL rules, checked at write time (the gateway's connector checks addresses). */
export function upstreamProblem(url: string): string | undefined {
  const parsed = URL.parse(url);
  if (!parsed) return 'is not an absolute URL';
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return 'must be an http: or https: URL';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (parsed.search || parsed.hash) return 'must not have a query or fragment';
  return undefined;
}

/**
 * Browsers drop tabs and line breaks anywhere in a URL (and C0 controls and spaces around
 * it): `/\t/evil.example` was stored as a path on the hub and followed as `//evil.example`.
 */
// eslint-disable-next-line no-control-regex
const WHITESPACE_OR_CONTROL = /[\u0000-\u0020\u007f]/;
/**
 * RFC 3986's characters. A link also becomes the gateway's `Link: <…>` header: outside
 * them it either broke every proxied response of the version (a 500: Node refuses CR, LF
 * and characters past U+00FF in a header) or, with `>`, added relations of its own.
 */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

/** An absolute http(s) URL or a path on the hub: what a browser may follow. */
function browserUrlProblem(url: string): string | undefined {
  if (WHITESPACE_OR_CONTROL.test(url)) return 'must not contain whitespace or control characters';
  // Browsers read `/\` like `//`: the start of another host, not a path on the hub.
  if (url.startsWith('/'))
    return /^\/[/\\]/.test(url) ? 'must not start with "//" or "/\\"' : undefined;
  const parsed = URL.parse(url);
  // `https:evil.example` parses, but a browser on an https: page reads it as a relative path.
  if (!parsed || !/^https?:\/\//i.test(url))
    return 'must be an absolute http(s) URL or a path starting with "/"';
  if (parsed.username || parsed.password) return 'must not carry credentials';
  return undefined;
}

export function linkProblem(url: string): string | undefined {
  if (!URI_CHARACTERS.test(url))
    return 'must be a URI (RFC 3986 characters only: percent-encode the others)';
  return browserUrlProblem(url);
}

/**
 * RFC 3339 allows a leap second (`23:59:60`) and the date-time format passes it, but no
 * JavaScript Date holds one: stored, it made every read of the dictionary a 500.
 */
const UNPARSABLE_DATE = 'must be a date-time JavaScript can represent (no leap second)';

type Urls = {
  baseUrl?: string | undefined;
  link?: string | undefined;
  upstream?: string | undefined;
  deprecatedAt?: string | undefined;
  sunsetAt?: string | undefined;
};

function urlErrors(v: Urls, at: string): FieldError[] {
  const errors: FieldError[] = [];
  const base = v.baseUrl !== undefined ? browserUrlProblem(v.baseUrl) : undefined;
  if (base) errors.push({ pointer: `${at}/baseUrl`, detail: base });
  const link = v.link ? linkProblem(v.link) : undefined; // "" is no link, as before
  if (link) errors.push({ pointer: `${at}/link`, detail: link });
  const up = v.upstream !== undefined ? upstreamProblem(v.upstream) : undefined;
  if (up) errors.push({ pointer: `${at}/upstream`, detail: up });
  for (const field of ['deprecatedAt', 'sunsetAt'] as const) {
    const date = v[field];
    if (date !== undefined && !Number.isFinite(Date.parse(date)))
      errors.push({ pointer: `${at}/${field}`, detail: UNPARSABLE_DATE });
  }
  if (v.deprecatedAt && v.sunsetAt && Date.parse(v.sunsetAt) < Date.parse(v.deprecatedAt))
    errors.push({ pointer: `${at}/sunsetAt`, detail: 'is before deprecatedAt' });
  return errors;
}

/** What the schema cannot say about an API body, every problem at once. */
export function apiErrors(input: ApiInput): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  input.versions.forEach((v, i) => {
    const at = `/versions/${i}`;
    if (seen.has(v.version))
      errors.push({ pointer: `${at}/version`, detail: `"${v.version}" is listed twice` });
    seen.add(v.version);
    if (v.baseUrl === undefined && v.upstream === undefined)
      errors.push({ pointer: at, detail: 'needs a baseUrl, an upstream, or both' });
    errors.push(...urlErrors(v, at));
  });
  return errors;
}

export function patchErrors(patch: PatchEntry[]): FieldError[] {
  return patch.flatMap((p, i) => urlErrors(p, `/patch/${i}`));
}

/** Applies defaults: `baseUrl` of a gateway-served version is its gateway path. */
export function toApi(name: string, input: ApiInput): Api {
  return {
    name,
    domain: input.domain,
    description: input.description ?? '',
    versions: input.versions.map((v) => normaliseVersion(name, v)),
  };
}

export function normaliseVersion(api: string, v: VersionInput): ApiVersion {
  return { ...v, status: v.status ?? 'stable', baseUrl: v.baseUrl ?? `/api/${api}/${v.version}` };
}

export function isName(value: string): boolean {
  return NAME_RE.test(value);
}
