/**
 * Pure functions from stored APIs to what clients see: an override's patch applied, the
 * per-app (vertical) split, and the public view, which never shows upstreams or policies.
 */
import {
  linkProblem,
  normaliseVersion,
  type Api,
  type ApiVersion,
  type PatchEntry,
} from './model.ts';

/** A copy of `apis` with the patch applied: fields of existing versions replaced, others added. */
export function applyPatch(apis: readonly Api[], patch: readonly PatchEntry[]): Api[] {
  const byName = new Map(apis.map((a) => [a.name, { ...a, versions: [...a.versions] }]));
  for (const p of patch) {
    let api = byName.get(p.api);
    if (!api) {
      api = { name: p.api, domain: p.domain ?? 'default', description: '', versions: [] };
      byName.set(p.api, api);
    }
    const { api: apiName, domain: _domain, ...fields } = p;
    const index = api.versions.findIndex((v) => v.version === p.version);
    if (index >= 0) {
      const current = api.versions[index]!;
      // Only the fields the patch names change; a patched upstream keeps the gateway path.
      api.versions[index] = { ...current, ...definedOnly(fields) } as ApiVersion;
    } else {
      api.versions.push(normaliseVersion(apiName, definedOnly(fields) as PatchEntry));
    }
  }
  return [...byName.values()];
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export type VersionView = {
  version: string;
  baseUrl: string;
  status: ApiVersion['status'];
  deprecation?: string;
  sunset?: string;
  link?: string;
};
export type DomainView = {
  name: string;
  apis: { name: string; description: string; versions: VersionView[] }[];
};

/** Domains → APIs → versions, sorted by name; with `app`, only what that micro-frontend may see. */
export function renderDomains(apis: readonly Api[], app: string | undefined): DomainView[] {
  const domains = new Map<string, DomainView>();
  for (const api of [...apis].sort((a, b) => cmp(a.name, b.name))) {
    const versions = api.versions
      .filter((v) => app === undefined || v.apps === undefined || v.apps.includes(app))
      .map(versionView);
    if (versions.length === 0) continue;
    let domain = domains.get(api.domain);
    if (!domain) domains.set(api.domain, (domain = { name: api.domain, apis: [] }));
    domain.apis.push({ name: api.name, description: api.description, versions });
  }
  return [...domains.values()].sort((a, b) => cmp(a.name, b.name));
}

function versionView(v: ApiVersion): VersionView {
  const deprecation = epochMs(v.deprecatedAt);
  const sunset = epochMs(v.sunsetAt);
  return {
    version: v.version,
    baseUrl: v.baseUrl,
    status: v.status,
    ...(deprecation !== undefined ? { deprecation: new Date(deprecation).toISOString() } : {}),
    ...(sunset !== undefined ? { sunset: new Date(sunset).toISOString() } : {}),
    ...(safeLink(v) ? { link: v.link } : {}),
  };
}

/**
 * Whether the version's link may be shown and sent as a header: links stored before
 * model.ts checked them (`javascript:`, CR LF, non-ASCII) are left out rather than
 * failing every proxied request of the version.
 */
function safeLink(v: ApiVersion): v is ApiVersion & { link: string } {
  return v.link !== undefined && v.link !== '' && linkProblem(v.link) === undefined;
}

/**
 * A stored date-time as epoch ms; undefined when absent or when no Date can hold it (a leap
 * second, stored before model.ts refused them): leaving it out beats failing every read.
 */
function epochMs(dateTime: string | undefined): number | undefined {
  if (!dateTime) return undefined;
  const ms = Date.parse(dateTime);
  return Number.isFinite(ms) ? ms : undefined;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** RFC 9745 `Deprecation` (a structured-field date) and RFC 8594 `Sunset` header values. */
export function lifecycleHeaders(v: ApiVersion): Record<string, string> {
  const headers: Record<string, string> = {};
  const at = epochMs(v.deprecatedAt);
  const sunset = epochMs(v.sunsetAt);
  if (v.status === 'deprecated' || v.status === 'sunset' || at !== undefined) {
    if (v.status !== 'stable' || (at !== undefined && at <= Date.now()))
      headers.deprecation = at !== undefined ? `@${Math.floor(at / 1000)}` : '@0';
  }
  if (sunset !== undefined) headers.sunset = new Date(sunset).toUTCString();
  if (safeLink(v) && headers.deprecation) headers.link = `<${v.link}>; rel="deprecation"`;
  return headers;
}
