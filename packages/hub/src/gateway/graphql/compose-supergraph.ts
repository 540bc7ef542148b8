/**
 * The supergraph: each configured subgraph's SDL, fetched with the federation query
 * `{ _service { sdl } }`, composed with The Guild's federation-composition (MIT). A
 * composition error lists every problem; the previous good supergraph stays in use.
 */
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import type { Dispatcher } from 'undici';
import { readAtMost } from '../read-at-most.ts';

export type SubgraphConfig = { name: string; url: string };

/**
 * The largest SDL answer read. A subgraph's answer was read whole whatever its size: one
 * answering without end filled the hub's memory until `timeoutMs`, on every poll.
 * Real SDLs are kilobytes to a few hundred.
 */
export const MAX_SDL_BYTES = 4 * 1024 * 1024;

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
      typeDefs: parseSdl(s, await fetchSdl(s, dispatcher, timeoutMs)),
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
  let text: string | undefined;
  try {
    text = (await readAtMost(response.body, MAX_SDL_BYTES))?.toString('utf8');
  } catch (error) {
    throw new CompositionError(
      `subgraph "${subgraph.name}" broke off its answer: ${(error as Error).message}`,
    );
  }
  if (text === undefined)
    throw new CompositionError(
      `subgraph "${subgraph.name}" answered { _service { sdl } } with more than ${MAX_SDL_BYTES} bytes`,
    );
  const sdl = sdlOf(text);
  if (response.statusCode !== 200 || typeof sdl !== 'string')
    throw new CompositionError(
      `subgraph "${subgraph.name}" did not answer { _service { sdl } } (HTTP ${response.statusCode})`,
    );
  return sdl;
}

function sdlOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { data?: { _service?: { sdl?: unknown } } } | null)?.data?._service
      ?.sdl;
  } catch {
    return undefined;
  }
}

/** The SDL parsed, its syntax error (or one too deep to parse) naming the subgraph. */
function parseSdl(subgraph: SubgraphConfig, sdl: string): ReturnType<typeof parse> {
  try {
    return parse(sdl);
  } catch (error) {
    throw new CompositionError(
      `subgraph "${subgraph.name}" announced an SDL that does not parse: ${(error as Error).message}`,
    );
  }
}
