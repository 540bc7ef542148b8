import { describe, expect, it } from 'vitest';
import { StringTable, pairKey } from './string-table.ts';

describe('StringTable', () => {
  it('stores and finds keys through growth, and looks up slices in place', () => {
    const table = new StringTable<number>();
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i.toString(36)}`);
    keys.forEach((key, i) => expect(table.upsert(key, () => i)).toBe(i));
    expect(table.size).toBe(5000);
    // upsert keeps the first value
    expect(table.upsert('k0', () => -1)).toBe(0);
    keys.forEach((key, i) => expect(table.get(key)).toBe(i));
    expect(table.get('nope')).toBeUndefined();
    expect(table.get('')).toBeUndefined();
    // 'xx' + key + 'yy': the middle is found without slicing; neighbours are not
    keys.forEach((key, i) => {
      const text = `xx${key}yy`;
      expect(table.getRange(text, 2, 2 + key.length)).toBe(i);
    });
    expect(table.getRange('xxk0yy', 1, 4)).toBeUndefined();
    expect(table.getRange('xxk0yy', 2, 5)).toBeUndefined();
  });

  it('tells apart keys whose hashes collide, and handles the empty string and astral text', () => {
    const table = new StringTable<string>();
    // Many keys in a small table: probing chains are exercised from the start.
    for (const key of ['', 'a', 'b', 'ab', 'ba', '😀', 'é', 'e\u0301', 'a'.repeat(300)])
      table.upsert(key, () => key);
    for (const key of ['', 'a', 'b', 'ab', 'ba', '😀', 'é', 'e\u0301', 'a'.repeat(300)])
      expect(table.get(key)).toBe(key);
    expect(table.get('abc')).toBeUndefined();
    expect(table.getRange('x😀x', 1, 3)).toBe('😀');
  });

  it('finds a head and a tail of one text as a pair key', () => {
    const table = new StringTable<string>();
    table.upsert(pairKey('ab', 'yz'), () => 'ab…yz');
    table.upsert(pairKey('a', 'byz'), () => 'a…byz');
    table.upsert(pairKey('', 'z'), () => '…z');
    const text = 'abcxyz';
    expect(table.getPair(text, 0, 2, 4, 6)).toBe('ab…yz');
    expect(table.getPair(text, 0, 1, 3, 6)).toBeUndefined(); // 'a' + 'xyz'
    expect(table.getPair('abyz', 0, 1, 1, 4)).toBe('a…byz');
    expect(table.getPair(text, 0, 0, 5, 6)).toBe('…z');
    expect(table.getPair(text, 0, 2, 5, 6)).toBeUndefined();
    // The pair key is not the plain concatenation.
    expect(table.get('abyz')).toBeUndefined();
  });
});
