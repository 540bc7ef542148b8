/**
 * JSON Schema `pattern` / `patternProperties` regexes, run in time linear in the string.
 *
 * A registered schema's regex is written by one tenant and run on the hub's event loop
 * against strings others publish. Node's backtracking engine takes exponential time on
 * `^(a+)+$` (a minute for 30 characters) and quadratic time on innocent-looking
 * unanchored ones (`[a-z]+@` on 100 KB of letters: seconds), so every tenant's publishing
 * would stall. Here the pattern runs on RE2 (re2js, its JavaScript port): automata, no
 * backtracking, linear in the string whatever the pattern.
 *
 * JSON Schema patterns are ECMA-262 regexes (the `u` flag here), RE2 speaks its own syntax:
 * the pattern is first checked by the native engine, then rewritten where the two differ,
 * so that it means exactly what ECMA-262 says: `\uXXXX`, `\u{…}` and `\cX` become `\x{…}`;
 * `.`, `\s` and `\S` become ECMA-262's classes (RE2's `.` stops only at `\n`, its `\s` is
 * ASCII); `[^]`, `[]` and `[\b]` get RE2 spellings; `\p{Script=…}` and `\p{gc=…}` drop the
 * key. Lookarounds, backreferences, repetitions over 1000 and the Unicode property names
 * RE2 does not know cannot run there: such a pattern is refused (`UnsupportedPattern`).
 */
import { RE2JS } from 're2js';

export class UnsupportedPattern extends Error {
  override name = 'UnsupportedPattern';
}

export type LinearPattern = {
  readonly source: string;
  test(text: string): boolean;
  toString(): string;
};

/**
 * Compiles a pattern for linear-time matching. Throws a SyntaxError when it is not a valid
 * ECMA-262 `u` regex, UnsupportedPattern when RE2 cannot run it.
 */
export function compileLinearPattern(source: string): LinearPattern {
  new RegExp(source, 'u'); // the syntax check, with the native engine's message
  let re: RE2JS;
  try {
    re = RE2JS.compile(toRe2(source));
  } catch (error) {
    throw new UnsupportedPattern(
      `cannot be matched in linear time (${(error as Error).message.replace(/^error parsing regexp: /, '')})`,
    );
  }
  const shown = `/${source}/u`;
  return { source, test: (text) => re.matcher(text).find(), toString: () => shown };
}

/**
 * ajv's `code.regExp` engine. `code` only matters to ajv's standalone code generation,
 * which the registry does not use.
 */
export const linearRegExp = Object.assign(
  (pattern: string, _flags: string): LinearPattern => compileLinearPattern(pattern),
  { code: 'compileLinearPattern' },
);

/** ECMA-262 WhiteSpace and LineTerminator (what `\s` matches), as code points. */
const WHITE_SPACE = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
  0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff,
];
const LINE_TERMINATORS = [0x0a, 0x0d, 0x2028, 0x2029];
const MAX_CODE_POINT = 0x10ffff;

const hex = (cp: number) => `\\x{${cp.toString(16)}}`;

/** A class body (no brackets) holding exactly `points`. */
const only = (points: number[]) => points.map(hex).join('');

/** A class body (no brackets) holding every code point but `points` (sorted). */
function allBut(points: number[]): string {
  let body = '';
  let from = 0;
  for (const p of points) {
    if (p > from) body += p - 1 > from ? `${hex(from)}-${hex(p - 1)}` : hex(from);
    from = p + 1;
  }
  return body + `${hex(from)}-${hex(MAX_CODE_POINT)}`;
}

const SPACE = only(WHITE_SPACE);
const NOT_SPACE = allBut(WHITE_SPACE);
const DOT = `[${allBut(LINE_TERMINATORS)}]`;
const ANY = `${hex(0)}-${hex(MAX_CODE_POINT)}`;

/** Rewrites a valid ECMA-262 `u` pattern into RE2 syntax with the same meaning. */
function toRe2(source: string): string {
  let out = '';
  let inClass = false;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const [text, next] = escape(source, i + 1, inClass);
      out += text;
      i = next;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      // `[]` matches nothing and `[^]` anything in ECMA-262; RE2 reads `]` there as a literal.
      if (source.startsWith('[]', i)) {
        out += `[^${ANY}]`;
        i += 2;
        continue;
      }
      if (source.startsWith('[^]', i)) {
        out += `[${ANY}]`;
        i += 3;
        continue;
      }
      inClass = true;
      out += c;
    } else out += c === '.' ? DOT : c;
    i++;
  }
  return out;
}

/** The RE2 text of the escape after a `\` at `i`, and where the pattern goes on. */
function escape(source: string, i: number, inClass: boolean): [string, number] {
  const c = source[i]!;
  switch (c) {
    case 'u': {
      if (source[i + 1] === '{') {
        const end = source.indexOf('}', i);
        return [hex(parseInt(source.slice(i + 2, end), 16)), end + 1];
      }
      let cp = parseInt(source.slice(i + 1, i + 5), 16);
      let next = i + 5;
      // A surrogate pair spelled as two escapes is one code point under the `u` flag.
      const low = /^\\u(d[c-f][0-9a-f]{2})/i.exec(source.slice(next));
      if (cp >= 0xd800 && cp <= 0xdbff && low) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(low[1]!, 16) - 0xdc00);
        next += 6;
      }
      return [hex(cp), next];
    }
    case 'c':
      return [hex(source.charCodeAt(i + 1) % 32), i + 2];
    case '0':
      return [hex(0), i + 1];
    case 's':
      return [inClass ? SPACE : `[${SPACE}]`, i + 1];
    case 'S':
      return [inClass ? NOT_SPACE : `[${NOT_SPACE}]`, i + 1];
    case 'b':
      // A backspace inside a class, a word boundary outside (both engines: ASCII words).
      return [inClass ? hex(8) : '\\b', i + 1];
    case 'p':
    case 'P': {
      const end = source.indexOf('}', i);
      const name = source.slice(i + 2, end).replace(/^(Script|sc|General_Category|gc)=/, '');
      return [`\\${c}{${name}}`, end + 1];
    }
    default:
      // \d \D \w \W \B \f \n \r \t \v \xHH, escaped syntax characters: the same in RE2.
      // Backreferences (\1, \k<name>) are left as they are, for RE2 to refuse.
      return [`\\${c}`, i + 1];
  }
}
