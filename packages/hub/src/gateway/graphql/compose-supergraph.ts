/**
 * The supergraph: each configured subgraph's SDL, fetched with the federation query
 * `{ _service { sdl } }`, composed with The Guild's federation-composition (MIT). A
 * composition error lists every problem; the previous good supergraph stays in use.
 */
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import type { Dispatcher } from 'undici';

export type SubgraphConfig = { name: string; url: string };

export class CompositionError extends Error {
  override name = 'CompositionError';
}

export async function composeSupergraph(
  subgraphs: readonly SubgraphConfig[],
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<string> {
  const services = await Promise.all(
    subgraphs.map(async (s) => ({
      name: s.name,
      url: s.url,
      typeDefs: parse(await fetchSdl(s, dispatcher, timeoutMs)),
    })),
  );
  const result = composeServices(services);
  if (result.errors && result.errors.length > 0)
    throw new CompositionError(
      `the subgraphs do not compose: ${result.errors.map((e) => e.message).join('; ')}`,
    );
  return result.supergraphSdl!;
}

async function fetchSdl(
  subgraph: SubgraphConfig,
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<string> {
  const url = new URL(subgraph.url);
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new CompositionError(
      `subgraph "${subgraph.name}" is unreachable: ${(error as Error).message}`,
    );
  }
  const body = (await response.body.json().catch(() => undefined)) as
    { data?: { _service?: { sdl?: string } } } | undefined;
  const sdl = body?.data?._service?.sdl;
  if (response.statusCode !== 200 || typeof sdl !== 'string')
    throw new CompositionError(
      `subgraph "${subgraph.name}" did not answer { _service { sdl } } (HTTP ${response.statusCode})`,
    );
  return sdl;
}
