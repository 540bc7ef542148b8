import type { Shell } from '@portico/shell';

/**
 * Headers of a micro-frontend's call through the gateway: its token, its app name (per-app
 * rate limits), and the override set the shell applied, if any, so a browser testing a
 * canary in production reaches the canary's upstream too, not only its URL in the dictionary.
 */
export function gatewayHeaders(shell: Shell, mfeId: string, token: string): Record<string, string> {
  const override = shell.dictionary.override?.id;
  return {
    authorization: `Bearer ${token}`,
    'x-portico-app': mfeId,
    ...(override ? { 'x-portico-override': override } : {}),
  };
}
