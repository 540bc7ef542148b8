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
    current = (await response.json()) as DictionaryView;
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
              if (v.version === version) return new URL(v.baseUrl, options.hub).href;
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
