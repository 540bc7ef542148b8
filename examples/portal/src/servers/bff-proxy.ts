import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * `GET /bff/<name>` on the shell's origin, forwarded to the hub's `/bff/<name>`.
 *
 * Why: the hub answers CORS on `/v1` (`http.cors`) and on `/api` (`gateway.cors`), but its
 * `/bff` routes send no CORS headers yet, so a page on another origin cannot call them. The
 * portal's own origin forwards them (same origin for the page); the dictionary's
 * `portal-bff` entry points here. Only the caller's token, app and override headers are
 * passed on.
 */
export function bffProxy(hub: () => string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' || !/^\/bff\/[A-Za-z0-9._-]+$/.test(url.pathname)) return false;
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'x-portico-app', 'x-portico-override', 'if-none-match']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = await fetch(`${hub()}${url.pathname}${url.search}`, { headers });
    const out: Record<string, string> = {};
    for (const name of ['content-type', 'cache-control', 'etag', 'x-request-id']) {
      const value = upstream.headers.get(name);
      if (value) out[name] = value;
    }
    res.writeHead(upstream.status, out);
    res.end(Buffer.from(await upstream.arrayBuffer()));
    return true;
  };
}
