/**
 * Fetches the service dictionary and keeps it: `GET /v1/dictionary[?app=]` once at start,
 * then (when the hub's settings ask for it) refreshed with `If-None-Match`, so an unchanged
 * dictionary costs a 304.
 */
import { ShellError } from '../shell-error.ts';
import type { DictionaryView } from '../types.ts';
import { OVERRIDE_HEADER } from './override-id.ts';

export type DictionaryClientOptions = {
  hub: string;
  app?: string;
  getToken: () => string | Promise<string>;
  override?: string;
};

export type DictionaryClient = {
  readonly current: DictionaryView;
  /** Revalidates with the kept ETag; true when the dictionary changed. */
  refresh(): Promise<boolean>;
  /** The version's absolute base URL (a path on the hub is resolved against the hub URL). */
  baseUrl(name: string, version: string): string;
};

export async function loadDictionary(options: DictionaryClientOptions): Promise<DictionaryClient> {
  const url = new URL('/v1/dictionary', options.hub);
  if (options.app !== undefined) url.searchParams.set('app', options.app);
  let etag: string | undefined;
  let current: DictionaryView | undefined;

  const fetchOnce = async (): Promise<boolean> => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${await options.getToken()}`,
    };
    if (options.override) headers[OVERRIDE_HEADER] = options.override;
    if (etag && current) headers['if-none-match'] = etag;
    // The shell does its own revalidation; the HTTP cache would hide the 304.
    const response = await fetch(url, { headers, cache: 'no-store' });
    if (response.status === 304 && current) return false;
    if (!response.ok)
      throw new ShellError(
        'http',
        `GET ${url.pathname} answered ${response.status}: ${await problemDetail(response)}`,
        response.status,
      );
    const body = await bodyJson(response);
    const problem = dictionaryProblem(body);
    // Kept as it was: a refresh that gets garbage must not break the shell that works.
    if (problem)
      throw new ShellError('http', `GET ${url.pathname} answered ${response.status}: ${problem}`);
    current = body as DictionaryView;
    etag = response.headers.get('etag') ?? undefined;
    return true;
  };

  await fetchOnce();
  return {
    get current() {
      return current!;
    },
    refresh: fetchOnce,
    baseUrl(name, version) {
      for (const domain of current!.domains)
        for (const api of domain.apis)
          if (api.name === name)
            for (const v of api.versions)
              if (v.version === version) return apiUrl(v.baseUrl, options.hub, name, version);
      throw new ShellError('unknown-api', `the dictionary has no API "${name}" ${version}`);
    },
  };
}

async function problemDetail(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { detail?: string; title?: string };
    return body.detail ?? body.title ?? response.statusText;
  } catch {
    return response.statusText;
  }
}

async function bodyJson(response: Response): Promise<unknown> {
  try {
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}

/** Why `body` is not a dictionary the shell can use, or undefined when it is. */
function dictionaryProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body is not a JSON object';
  const d = body as Record<string, unknown>;
  if (typeof d.tenant !== 'string') return 'the dictionary has no tenant';
  if (typeof d.settings !== 'object' || d.settings === null || Array.isArray(d.settings))
    return 'the dictionary has no settings object';
  if (!Array.isArray(d.domains)) return 'the dictionary has no domains list';
  for (const domain of d.domains as unknown[]) {
    const apis = (domain as { apis?: unknown } | null)?.apis;
    if (!Array.isArray(apis)) return 'a domain of the dictionary has no apis list';
    for (const api of apis as unknown[])
      if (!Array.isArray((api as { versions?: unknown } | null)?.versions))
        return 'an API of the dictionary has no versions list';
  }
  return undefined;
}

/**
 * A base URL micro-frontends fetch from or link to: http(s) only, so a dictionary entry can
 * never hand them a `javascript:` or `data:` URL.
 */
function apiUrl(baseUrl: unknown, hub: string, name: string, version: string): string {
  let url: URL | undefined;
  try {
    url = new URL(String(baseUrl), hub);
  } catch {
    url = undefined;
  }
  if (
    typeof baseUrl !== 'string' ||
    !url ||
    (url.protocol !== 'http:' && url.protocol !== 'https:')
  )
    throw new ShellError(
      'invalid',
      `the dictionary's base URL of "${name}" ${version} is not an http(s) URL`,
    );
  return url.href;
}
