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

/**
 * Why there is no supergraph. Its message reaches `/graphql` callers (the 503 problem), so it
 * names the subgraph by its configured name and the kind of failure only: the raw error (a
 * connection error's `IP:port`, the SSRF policy's verdict on an address, a parser's quote of
 * the answer) may reveal where the subgraph is. That raw error is the `cause`, which the
 * hub's log serialiser appends to the message for operators.
 */
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
  let result: ReturnType<typeof composeServices>;
  try {
    result = composeServices(services);
  } catch (error) {
    throw new CompositionError('the subgraphs do not compose', { cause: error });
  }
  const errors = result.errors ?? [];
  if (errors.length > 0) {
    // The messages quote the subgraphs' SDL; the caller gets the subgraphs they name (as
    // `"name"`, composition's own quoting) and the codes, the log everything.
    const messages = errors.map((e) => e.message);
    const named = subgraphs
      .map((s) => s.name)
      .filter((name) => messages.some((m) => m.includes(`"${name}"`)));
    const codes = [...new Set(errors.map((e) => e.extensions?.code).filter(Boolean))];
    throw new CompositionError(
      `the subgraphs ${named.length > 0 ? `"${named.join('", "')}" ` : ''}do not compose` +
        ` (${errors.length} error${errors.length === 1 ? '' : 's'}${codes.length > 0 ? `: ${codes.join(', ')}` : ''})`,
      { cause: new Error(messages.join('; ')) },
    );
  }
  return result.supergraphSdl!;
}

async function fetchSdl(
  subgraph: SubgraphConfig,
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<string> {
  const url = new URL(subgraph.url);
  const deadline = AbortSignal.timeout(timeoutMs);
  // Connection errors and the SSRF policy's refusals quote the address: they are the cause.
  const failed = (what: string, cause: unknown) =>
    deadline.aborted
      ? new CompositionError(
          `subgraph "${subgraph.name}" did not answer { _service { sdl } } within ${timeoutMs} ms`,
          { cause },
        )
      : new CompositionError(`subgraph "${subgraph.name}" ${what}`, { cause });
  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
      signal: deadline,
    });
  } catch (error) {
    throw failed('is unreachable', error);
  }
  let text: string | undefined;
  try {
    text = (await readAtMost(response.body, MAX_SDL_BYTES))?.toString('utf8');
  } catch (error) {
    throw failed('broke off its answer', error);
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
    // The syntax error quotes the SDL: for the log only.
    throw new CompositionError(`subgraph "${subgraph.name}" announced an SDL that does not parse`, {
      cause: error,
    });
  }
}
