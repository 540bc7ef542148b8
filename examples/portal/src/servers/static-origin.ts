import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, type Listening } from './listen.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

export type Route = (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;

/**
 * One micro-frontend's (or the shell's) own origin: serves a built directory. Module
 * scripts loaded from another origin need CORS, so every file says
 * `Access-Control-Allow-Origin: *` (they are public bundles, nothing credentialed).
 * `routes` answer first (the shell origin's HTML and dev-token endpoint).
 */
export async function serveStaticOrigin(
  root: string,
  port: number,
  routes: Route[] = [],
): Promise<Listening> {
  return listen(async (req, res) => {
    for (const route of routes) if (await route(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    const body = await readFile(file).catch(() => undefined);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'access-control-allow-origin': '*',
      // A demo rebuilds on every start: never let the browser keep an old bundle.
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }, port);
}
