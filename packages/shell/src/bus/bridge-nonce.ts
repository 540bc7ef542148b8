/**
 * The per-frame nonce of the iframe bridge. `bridgeIframe` puts a fresh one in the frame's
 * URL fragment (`#portico-bridge=<nonce>`) and accepts only hellos that carry it. The
 * document the shell loaded there (and that document reloaded) reads it from its
 * `location.hash`; a document the frame navigates to has another URL and never learns it,
 * although it shares the frame's window (and, sandboxed, the opaque origin `"null"`) with
 * its predecessor. A fragment is never sent to a server nor in a `Referer`.
 */
const PARAM = 'portico-bridge';

export function newBridgeNonce(): string {
  return crypto.randomUUID();
}

/** `src` with the nonce in its fragment (the frame's own fragment parameters are kept). */
export function srcWithNonce(src: string, base: string, nonce: string): string {
  const url = new URL(src, base);
  const own = url.hash
    .slice(1)
    .split('&')
    .filter((part) => part !== '' && !part.startsWith(`${PARAM}=`));
  url.hash = [...own, `${PARAM}=${nonce}`].join('&');
  return url.href;
}

/** The nonce in a `location.hash`, or `''`. */
export function nonceInHash(hash: string): string {
  for (const part of hash.replace(/^#/, '').split('&'))
    if (part.startsWith(`${PARAM}=`)) return part.slice(PARAM.length + 1);
  return '';
}
