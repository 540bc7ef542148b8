/**
 * Rewrites PostgreSQL-style `$1` placeholders into SQLite's numbered `?1` form. SQLite
 * would otherwise read `$1` as a *named* parameter and number it by first appearance,
 * so `... $2 ... $1` would bind the wrong values. Quoted strings, quoted identifiers and
 * comments are copied untouched.
 */
export type TranslatedSql = {
  sql: string;
  /** Highest placeholder number used: the exact number of parameters the SQL expects. */
  parameterCount: number;
};

export function translatePlaceholders(sql: string): TranslatedSql {
  let out = '';
  let parameterCount = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = closingQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '[') {
      const end = sql.indexOf(']', i + 1);
      const stop = end === -1 ? n : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '$' && isDigit(sql.charCodeAt(i + 1))) {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      const number = Number(sql.slice(i + 1, j));
      if (number < 1)
        throw new SyntaxError(`placeholder $${number} in SQL: numbering starts at $1`);
      if (number > parameterCount) parameterCount = number;
      out += `?${number}`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return { sql: out, parameterCount };
}

/** Index just past the quote that closes the one at `start` (a doubled quote escapes it). */
function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
