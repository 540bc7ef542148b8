import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sendJson, type Listening } from './listen.ts';
import { serveStaticOrigin } from './static-origin.ts';

export type ShellPageConfig = {
  hub: string;
  incidentsOrigin: string;
  billingOrigin: string;
  widgetOrigin: string;
  webhookReceiver: string;
};

/** Short-lived: the page asks again before it expires (see web/shell/page-token.ts). */
const PAGE_TOKEN_TTL_SECONDS = 300;

/**
 * The shell's origin: the portal page (with its import map), the shared modules,
 * and `POST /demo/token`, which mints a development token for the page. The token endpoint
 * sends no CORS headers, so only this origin's pages can read what it returns.
 */
export async function serveShellOrigin(options: {
  dir: string;
  port: number;
  /** Read per request: the hub starts after this origin (it needs its URL for CORS). */
  page: () => ShellPageConfig;
  mintPageToken: (ttlSeconds: number) => Promise<string>;
}): Promise<Listening> {
  const template = await readFile(join(options.dir, 'index.template.html'), 'utf8');
  const origin = await serveStaticOrigin(options.dir, options.port, [
    async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'POST' && path === '/demo/token') {
        const token = await options.mintPageToken(PAGE_TOKEN_TTL_SECONDS);
        const expiresAt = new Date(Date.now() + PAGE_TOKEN_TTL_SECONDS * 1000).toISOString();
        sendJson(res, 200, { token, expiresAt }, { 'cache-control': 'no-store' });
        return true;
      }
      if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
        });
        res.end(renderShellPage(template, origin.url, options.page()));
        return true;
      }
      return false;
    },
  ]);
  return origin;
}

export function renderShellPage(
  template: string,
  shellOrigin: string,
  page: ShellPageConfig,
): string {
  const importMap = {
    imports: {
      '@portico/shell': `${shellOrigin}/vendor/portico-shell.js`,
      '@portico/shell/react': `${shellOrigin}/vendor/portico-shell-react.js`,
      react: `${shellOrigin}/vendor/react.js`,
      'react-dom/client': `${shellOrigin}/vendor/react-dom-client.js`,
      'billing-mfe': `${page.billingOrigin}/billing-panel.js`,
    },
  };
  const config = {
    hub: page.hub,
    tokenUrl: '/demo/token',
    microFrontends: {
      incidents: `${page.incidentsOrigin}/incidents-list.js`,
      billing: 'billing-mfe',
    },
    widgetUrl: `${page.widgetOrigin}/index.html`,
    webhookReceiver: page.webhookReceiver,
  };
  // JSON inside <script>: "<" escaped so no value can close the element.
  const embed = (value: unknown) => JSON.stringify(value, null, 2).replaceAll('<', '\\u003c');
  return template
    .replace('%PORTAL_CONFIG%', () => embed(config))
    .replace('%IMPORT_MAP%', () => embed(importMap));
}
