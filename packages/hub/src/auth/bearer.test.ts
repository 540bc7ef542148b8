import { describe, expect, it } from 'vitest';
import { MAX_BEARER_TOKEN_LENGTH, parseBearer } from './bearer.ts';

describe('parseBearer', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER   abc-_~+/=', 'abc-_~+/='],
    ['  Bearer\tabc  ', 'abc'],
  ])('%j → %j', (header, token) => {
    expect(parseBearer(header)).toBe(token);
  });

  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Bearer    ',
    'Basic dXNlcjpwYXNz',
    'Bearerabc',
    'Bearer abc def',
    'Bearer a,b',
    'Bearer "abc"',
    'Bearer abc=def',
    'Token abc',
    'abc.def.ghi',
    'Bearer ab\u0000c',
    'Bearer café',
  ])('rejects %j', (header) => {
    expect(parseBearer(header)).toBeUndefined();
  });

  it('rejects a token beyond the length limit, accepts one at it', () => {
    expect(parseBearer(`Bearer ${'a'.repeat(MAX_BEARER_TOKEN_LENGTH)}`)).toHaveLength(
      MAX_BEARER_TOKEN_LENGTH,
    );
    expect(parseBearer(`Bearer ${'a'.repeat(MAX_BEARER_TOKEN_LENGTH + 1)}`)).toBeUndefined();
  });
});
