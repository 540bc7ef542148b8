import { describe, expect, it } from 'vitest';
import { presentedOverride } from './override-id.ts';

describe('the override id a browser presents', () => {
  it('takes the option, else the URL flag, else the cookie', () => {
    const url = 'https://portal.example/?portico-override=from-url';
    const cookies = 'a=1; portico-override=from%2Dcookie';
    expect(presentedOverride('from-option', url, cookies)).toBe('from-option');
    expect(presentedOverride(undefined, url, cookies)).toBe('from-url');
    expect(presentedOverride(undefined, 'https://portal.example/', cookies)).toBe('from-cookie');
    expect(presentedOverride(undefined, undefined, 'a=1')).toBeUndefined();
  });

  it('treats a malformed cookie value as no override instead of failing the shell', () => {
    expect(presentedOverride(undefined, undefined, 'portico-override=%')).toBeUndefined();
  });
});
