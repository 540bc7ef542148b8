/**
 * The page's token getter, handed to Web Components with the community context protocol
 * (a bubbling `context-request` event, as `<portico-mfe>` does for the shell), so an element
 * asks its surroundings instead of reaching for a global.
 */
export const PORTAL_TOKEN = 'portal-token';

type GetToken = () => Promise<string>;
type TokenRequest = Event & { context?: unknown; callback?: (value: GetToken) => void };

/** Answers token requests from any element under `root`. */
export function provideToken(root: EventTarget, getToken: GetToken): () => void {
  const answer = (event: Event) => {
    const request = event as TokenRequest;
    if (request.context !== PORTAL_TOKEN) return;
    event.stopPropagation();
    request.callback?.(getToken);
  };
  root.addEventListener('context-request', answer);
  return () => root.removeEventListener('context-request', answer);
}

/** The token getter provided above `element`, if any. */
export function requestToken(element: Element): GetToken | undefined {
  let provided: GetToken | undefined;
  const request: TokenRequest = new Event('context-request', { bubbles: true, composed: true });
  request.context = PORTAL_TOKEN;
  request.callback = (value) => (provided = value);
  element.dispatchEvent(request);
  return provided;
}
