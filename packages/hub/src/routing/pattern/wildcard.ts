/**
 * The wildcard syntax of EventBridge: `*` matches any run of characters (including none),
 * `\*` is a literal star, `\\` a literal backslash; any other escape, a trailing lone
 * backslash, and consecutive `**` are errors.
 */
export type ParsedWildcard =
  | { ok: true; segments: string[] } // literal text between the stars; n stars give n + 1 segments
  | { ok: false; problem: string };

export function parseWildcard(text: string): ParsedWildcard {
  const segments: string[] = [];
  let current = '';
  let previousWasStar = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === '*' || next === '\\') {
        current += next;
        i++;
        previousWasStar = false;
        continue;
      }
      return {
        ok: false,
        problem:
          next === undefined
            ? 'a wildcard may not end with a lone backslash; write \\\\ for a literal backslash'
            : `"\\${next}" is not a valid escape in a wildcard; only \\* and \\\\ are allowed`,
      };
    }
    if (ch === '*') {
      if (previousWasStar) {
        return { ok: false, problem: 'consecutive wildcard characters (**) are not allowed' };
      }
      segments.push(current);
      current = '';
      previousWasStar = true;
      continue;
    }
    current += ch;
    previousWasStar = false;
  }
  segments.push(current);
  return { ok: true, segments };
}

/** Does `value` match the wildcard whose literal segments are `segments`? */
export function matchesWildcardSegments(segments: readonly string[], value: string): boolean {
  const last = segments.length - 1;
  const first = segments[0] ?? '';
  if (last === 0) return value === first;
  const tail = segments[last] ?? '';
  if (value.length < first.length + tail.length) return false;
  if (!value.startsWith(first) || !value.endsWith(tail)) return false;
  // Middle segments in order, leftmost first: greedy leftmost is exact for `*`-only globs.
  let from = first.length;
  const end = value.length - tail.length;
  for (let i = 1; i < last; i++) {
    const segment = segments[i] ?? '';
    const at = value.indexOf(segment, from);
    if (at < 0 || at + segment.length > end) return false;
    from = at + segment.length;
  }
  return true;
}
