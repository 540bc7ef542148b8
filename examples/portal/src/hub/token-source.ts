import type { DevIssuer } from '../../../../packages/hub/src/auth/dev-issuer.ts';

/**
 * Short-lived development tokens for one tenant and scope set, minted again once half
 * their lifetime is gone, so a long-running demo never holds a long-lived credential.
 */
export function tokenSource(
  issuer: DevIssuer,
  request: { tenant: string; scopes: string[]; subject?: string; ttlSeconds: number },
): () => Promise<string> {
  let current: { token: string; renewAt: number } | undefined;
  return async () => {
    if (!current || Date.now() >= current.renewAt) {
      const token = await issuer.mint(request);
      current = { token, renewAt: Date.now() + (request.ttlSeconds * 1000) / 2 };
    }
    return current.token;
  };
}
