/**
 * /metrics is public unless `http.metricsToken` is set: then only a scraper with that
 * bearer token reads it (its labels name tenants, consumer groups and endpoints).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, ConfigError } from '../config/load-config.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

const TOKEN = 'scrape-7f3a9c1e5b2d4068';

describe('/metrics with http.metricsToken', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({ http: { metricsToken: TOKEN } });
  });
  afterAll(async () => {
    await t.close();
  });
  const scrape = (authorization?: string) =>
    t.hub.server.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });

  it('answers the scraper holding the token', async () => {
    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('portico_events_ingested_total');
  });

  it('refuses everyone else with a 401 problem, the hub’s own tokens included', async () => {
    const tenantToken = (await t.auth('acme', ['admin'])).authorization!;
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, tenantToken]) {
      const res = await scrape(authorization);
      expect(res.statusCode, String(authorization)).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().detail).toBe('/metrics needs the metrics token (http.metricsToken)');
      expect(res.body).not.toContain(TOKEN);
    }
  });

  it('leaves the other operations routes public', async () => {
    expect((await t.hub.server.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await t.hub.server.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('/metrics while a store cannot answer', () => {
  it('still answers with every other metric (the lag and DLQ depth keep what they last read)', async () => {
    const t = await startTestHub();
    try {
      const failing = () => Promise.reject(new Error('store unreachable'));
      vi.spyOn(t.hub.log, 'listGroups').mockImplementation(failing);
      vi.spyOn(t.hub.routing.deliveries.store, 'deadCounts').mockImplementation(failing);
      const res = await t.hub.server.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('portico_events_ingested_total');
      expect(res.body).toContain('# TYPE portico_dlq_depth gauge');
      expect(res.body).toContain('# TYPE portico_consumer_group_pending gauge');
    } finally {
      await t.close();
    }
  });
});

describe('the metrics token setting', () => {
  it('is read from PORTICO_METRICS_TOKEN', () => {
    expect(loadConfig({ env: { PORTICO_METRICS_TOKEN: TOKEN } }).http.metricsToken).toBe(TOKEN);
  });

  it('refuses a token too short to be a secret, or one a bearer header cannot carry', () => {
    for (const metricsToken of ['short', 'has spaces in it, sixteen+'])
      expect(() => loadConfig({ env: {}, overrides: { http: { metricsToken } } })).toThrow(
        ConfigError,
      );
  });

  it('is unset by default: /metrics stays public', async () => {
    const t = await startTestHub();
    try {
      expect((await t.hub.server.inject({ url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});
