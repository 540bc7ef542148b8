import { describe, expect, it } from 'vitest';
import { OutputChain } from './output-chain.ts';

const b = (text: string) => Buffer.from(text);

describe('OutputChain', () => {
  it('joins a path once and shares it between connections sent the same frames', () => {
    const [f1, f2, f3] = [b('one;'), b('two;'), b('three;')];
    const root = new OutputChain();
    const a = root.then(f1).then(f2).then(f3);
    const c = root.then(f1).then(f2).then(f3);
    expect(c).toBe(a);
    expect(a.bytes).toBe(14);
    expect(a.joined().toString()).toBe('one;two;three;');
    expect(c.joined()).toBe(a.joined()); // the same Buffer: joined once
  });

  it('keeps different sequences apart, and a single frame is written as is', () => {
    const [f1, f2, f3] = [b('one;'), b('two;'), b('three;')];
    const root = new OutputChain();
    expect(root.then(f1).then(f3).joined().toString()).toBe('one;three;');
    expect(root.then(f2).then(f1).joined().toString()).toBe('two;one;');
    expect(root.then(f1).then(f2).joined().toString()).toBe('one;two;');
    expect(root.then(f2).joined()).toBe(f2);
    // Equal bytes in another Buffer are another frame (identity is what is shared).
    expect(root.then(b('one;'))).not.toBe(root.then(f1));
  });
});
