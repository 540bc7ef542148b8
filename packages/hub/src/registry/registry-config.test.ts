import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load-config.ts';

const load = (registry: unknown) =>
  loadConfig({ env: {}, cwd: '/nonexistent', overrides: { registry } }).registry;

describe('registry config', () => {
  it('has defaults', () => {
    expect(load({})).toEqual({
      compatibility: 'BACKWARD',
      validation: 'reject',
      allowOptionalPropertyInOpenModel: true,
      cacheRefreshMs: 1000,
      domains: {},
    });
  });

  it('takes per-domain policies', () => {
    expect(load({ domains: { hr: { forbidPii: true, maxRetentionSeconds: 60 } } }).domains).toEqual(
      {
        hr: { forbidPii: true, maxRetentionSeconds: 60 },
      },
    );
  });

  it.each([
    [{ compatibility: 'SIDEWAYS' }, 'registry.compatibility'],
    [{ validation: 'maybe' }, 'registry.validation'],
    [{ domains: { 'Not A Domain': {} } }, 'registry.domains'],
    [{ domains: { hr: { forbidPii: 'yes' } } }, 'registry.domains.hr.forbidPii'],
    [{ domains: { hr: { maxRetentionSeconds: 0 } } }, 'registry.domains.hr.maxRetentionSeconds'],
    [{ domains: { hr: { unknown: true } } }, 'registry.domains.hr'],
  ])('refuses %j naming the key', (registry, key) => {
    expect(() => load(registry)).toThrow(ConfigError);
    expect(() => load(registry)).toThrow(key);
  });
});
