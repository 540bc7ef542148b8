import { describe, expect, it } from 'vitest';
import { translatePlaceholders } from './placeholders.ts';

describe('translatePlaceholders', () => {
  it('numbers $n placeholders as ?n, keeping reuse and order', () => {
    expect(translatePlaceholders('select * from t where b = $2 and a = $1 or c = $2')).toEqual({
      sql: 'select * from t where b = ?2 and a = ?1 or c = ?2',
      parameterCount: 2,
    });
  });

  it('leaves quoted strings, identifiers and comments alone', () => {
    const sql = `select '$1', 'it''s $2', "col$3", [x$4], \`y$5\` -- $6\n, /* $7 */ $1`;
    expect(translatePlaceholders(sql)).toEqual({
      sql: `select '$1', 'it''s $2', "col$3", [x$4], \`y$5\` -- $6\n, /* $7 */ ?1`,
      parameterCount: 1,
    });
  });

  it('reports no parameters for plain SQL and rejects $0', () => {
    expect(translatePlaceholders('select 1').parameterCount).toBe(0);
    expect(() => translatePlaceholders('select $0')).toThrow(SyntaxError);
  });
});
