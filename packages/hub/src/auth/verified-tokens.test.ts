import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from './verified-tokens.ts';

describe('verified tokens', () => {
  it('knows a verified token synchronously until its ttl, and never an unverified one', async () => {
    let now = 1_000_000;
    const cache = new VerifiedTokens(
      {
        authenticate: async (token: string) => ({
          tenant: 't',
          subject: token,
          scopes: new Set<string>(),
          expiresAt: 2_000_000,
        }),
      },
      { ttlMs: 10_000, clock: () => now },
    );
    expect(cache.known('a')).toBeUndefined();
    const principal = await cache.authenticate('a');
    expect(cache.known('a')).toBe(principal);
    expect(cache.known('b')).toBeUndefined();
    now += 10_001;
    expect(cache.known('a')).toBeUndefined();
  });

  it('verifies a token once, until its exp or the ttl, and never caches failures', async () => {
    let now = 1_000_000;
    let calls = 0;
    const inner = {
      authenticate: async (token: string) => {
        calls += 1;
        if (token === 'bad') throw new Error('invalid');
        return { tenant: 't', subject: token, scopes: new Set<string>(), expiresAt: 2_000_000 };
      },
    };
    const cache = new VerifiedTokens(inner, { ttlMs: 10_000, clock: () => now });
    await cache.authenticate('a');
    await cache.authenticate('a');
    expect(calls).toBe(1);
    now += 10_001; // past the ttl
    await cache.authenticate('a');
    expect(calls).toBe(2);
    await expect(cache.authenticate('bad')).rejects.toThrow('invalid');
    await expect(cache.authenticate('bad')).rejects.toThrow('invalid');
    expect(calls).toBe(4);
    // A token whose exp is near is kept only until its exp.
    const shortLived = new VerifiedTokens(
      {
        authenticate: async () => ({
          tenant: 't',
          subject: 's',
          scopes: new Set<string>(),
          expiresAt: 1_005,
        }),
      },
      { ttlMs: 60_000, clock: () => now },
    );
    now = 1_004_000;
    await shortLived.authenticate('x');
    now = 1_005_000;
    let again = 0;
    const spy = new VerifiedTokens(
      {
        authenticate: async () => (
          again++,
          { tenant: 't', subject: 's', scopes: new Set<string>(), expiresAt: 1_005 }
        ),
      },
      { clock: () => now },
    );
    await spy.authenticate('y'); // exp reached: verified, not kept
    await spy.authenticate('y');
    expect(again).toBe(2);
  });
});
