/**
 * The override set id this browser presents for testing in production: the shell option,
 * else the URL flag `?portico-override=<id>`, else the staff cookie `portico-override`.
 * The shell sends it as the `x-portico-override` header, because the page's cookie does not
 * travel to a hub on another origin.
 */
export const OVERRIDE_HEADER = 'x-portico-override';
export const OVERRIDE_PARAM = 'portico-override';
export const OVERRIDE_COOKIE = 'portico-override';

export function presentedOverride(
  option: string | undefined,
  pageUrl: string | undefined,
  cookies: string | undefined,
): string | undefined {
  if (option) return option;
  if (pageUrl) {
    const flag = new URL(pageUrl).searchParams.get(OVERRIDE_PARAM);
    if (flag) return flag;
  }
  for (const part of (cookies ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === OVERRIDE_COOKIE) {
      const value = decoded(part.slice(eq + 1).trim());
      if (value) return value;
    }
  }
  return undefined;
}

/** A malformed cookie value (`%`) is no override, not a failed shell. */
function decoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
