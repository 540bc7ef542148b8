import { mintDevToken } from './dev-token.ts';

export type HubTarget = { url: string; token: string };

/**
 * Where the CLI talks to and with which token: --hub / PORTICO_HUB (default the local hub),
 * --token / PORTICO_TOKEN, or, against a development hub, a token minted from its data dir.
 */
export async function resolveHubTarget(
  values: { hub?: string; token?: string; tenant?: string; 'data-dir'?: string },
  scopes: string[],
): Promise<HubTarget> {
  const url = (
    values.hub ??
    process.env.PORTICO_HUB ??
    `http://127.0.0.1:${process.env.PORTICO_PORT ?? 8080}`
  ).replace(/\/$/, '');
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new Error(`the hub URL (--hub or PORTICO_HUB) must be an http(s) URL, got "${url}"`);
  const token = values.token ?? process.env.PORTICO_TOKEN;
  if (token) return { url, token };
  if (!values.tenant)
    throw new Error('give --token (or PORTICO_TOKEN), or --tenant to mint a development token');
  return {
    url,
    token: await mintDevToken({
      dataDir: values['data-dir'],
      tenant: values.tenant,
      scopes,
      ttlSeconds: 3600,
    }),
  };
}

/**
 * `fetch` to the hub, with a failure to connect said plainly: fetch's own message is only
 * "fetch failed" (the reason is in its `cause`).
 */
export async function fetchHub(url: string, init: RequestInit = {}): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    throw new Error(
      `cannot reach the hub at ${URL.canParse(url) ? new URL(url).origin : url}: ${cause ?? (error as Error).message}`,
      { cause: error },
    );
  }
}

/** Reads a hub response; throws with the problem's detail on an error status. */
export async function readHubResponse(response: Response): Promise<unknown> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    // Not a hub (a web server, a proxy's error page): say what answered, not a parse error.
    const type = response.headers.get('content-type') ?? 'no content type';
    throw new Error(
      `${URL.canParse(response.url) ? new URL(response.url).origin : 'the hub'} answered ${response.status} with ${type}, not JSON: is it a Portico hub?`,
    );
  }
  if (!response.ok) {
    const problem = body as { title?: string; detail?: string } | undefined;
    throw new Error(
      `${response.status} ${problem?.title ?? response.statusText}: ${problem?.detail ?? text}`,
    );
  }
  return body;
}
