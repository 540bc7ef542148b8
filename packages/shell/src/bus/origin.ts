/** Origins as the browser writes them in MessageEvent.origin (`http://127.0.0.1:8081`). */
import { ShellError } from '../shell-error.ts';

export function normalizeOrigin(origin: string): string {
  if (origin === '*' || origin === 'null')
    throw new ShellError('invalid', `"${origin}" is not an origin the bridge can allow-list`);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new ShellError('invalid', `"${origin}" is not an origin (scheme://host[:port])`);
  }
  if (url.origin === 'null' || url.href !== `${url.origin}/`)
    throw new ShellError('invalid', `"${origin}" is not an origin (scheme://host[:port], no path)`);
  return url.origin;
}
