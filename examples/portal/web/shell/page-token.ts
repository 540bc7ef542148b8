/**
 * The page's bearer token: minted by the demo server for this page (same origin, so no other
 * site can read it), short-lived, fetched again a minute before it expires. Nothing
 * long-lived is ever embedded in the page.
 */
export function pageToken(tokenUrl: string): () => Promise<string> {
  let current: Promise<{ token: string; expiresAt: number }> | undefined;
  const mint = async () => {
    const response = await fetch(tokenUrl, { method: 'POST' });
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    const body = (await response.json()) as { token: string; expiresAt: string };
    return { token: body.token, expiresAt: Date.parse(body.expiresAt) };
  };
  return async () => {
    const held = current && (await current.catch(() => undefined));
    if (!held || held.expiresAt - Date.now() < 60_000) {
      current = mint();
      return (await current).token;
    }
    return held.token;
  };
}
