/** Loads the bus contracts from the hub (`GET /v1/catalog/contracts`, scope `events:read`). */
import { ShellError } from '../shell-error.ts';
import type { EventContracts } from './contracts.ts';

export type CatalogContractsSource = {
  hub: string;
  getToken: () => string | Promise<string>;
  fetch?: typeof globalThis.fetch;
};

export async function fetchCatalogContracts(
  source: CatalogContractsSource,
): Promise<EventContracts> {
  const doFetch = source.fetch ?? globalThis.fetch.bind(globalThis);
  const url = new URL('/v1/catalog/contracts', source.hub);
  const response = await doFetch(url, {
    headers: { authorization: `Bearer ${await source.getToken()}`, accept: 'application/json' },
  });
  if (!response.ok)
    throw new ShellError(
      'http',
      `GET ${url.pathname} answered ${response.status}`,
      response.status,
    );
  const body = (await response.json()) as { events?: unknown };
  if (typeof body?.events !== 'object' || body.events === null)
    throw new ShellError('http', `GET ${url.pathname} answered without an events map`);
  return body.events as EventContracts;
}
