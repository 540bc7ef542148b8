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
    const at = indexOfSegment(value, segment, from);
    if (at < 0 || at + segment.length > end) return false;
    from = at + segment.length;
  }
  return true;
}

/**
 * Past a few hundred characters, V8's `indexOf` can take time proportional to the text
 * times the needle (`a…aba…a` in a long run of `a`s: about a second for a 16 KB
 * wildcard segment in a 240 KB value, on every event the rule is a candidate for).
 * Longer segments are searched in linear time instead (Knuth-Morris-Pratt).
 */
const LONG_SEGMENT = 200;

/** `text.indexOf(segment, from)`, in time linear in the text for long segments. */
export function indexOfSegment(text: string, segment: string, from: number): number {
  const m = segment.length;
  if (m <= LONG_SEGMENT) return text.indexOf(segment, from);
  // border[i]: the length of the longest proper border of segment[0..i].
  const border = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    const c = segment.charCodeAt(i);
    while (k > 0 && c !== segment.charCodeAt(k)) k = border[k - 1] as number;
    if (c === segment.charCodeAt(k)) k++;
    border[i] = k;
  }
  for (let i = from, k = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    while (k > 0 && c !== segment.charCodeAt(k)) k = border[k - 1] as number;
    if (c === segment.charCodeAt(k) && ++k === m) return i - m + 1;
  }
  return -1;
}
