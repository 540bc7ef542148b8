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

/** Reads a hub response; throws with the problem's detail on an error status. */
export async function readHubResponse(response: Response): Promise<unknown> {
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const problem = body as { title?: string; detail?: string } | undefined;
    throw new Error(
      `${response.status} ${problem?.title ?? response.statusText}: ${problem?.detail ?? text}`,
    );
  }
  return body;
}
