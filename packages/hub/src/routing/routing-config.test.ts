/**
 * The `routing` section of portico.config.json: validated by the config loader, mapped to
 * the delivery engine's settings, and applied over each kind's built-in defaults.
 */
import { waitFor } from '../testing/wait-for.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.ts';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { HttpPostTarget, HttpReceiver } from './testing/http-receiver.ts';
import { RoutingClient } from './testing/routing-client.ts';
import { routingOptionsFrom } from './routing-config.ts';

const load = (routing: unknown) =>
  loadConfig({
    cwd: mkdtempSync(join(tmpdir(), 'portico-config-')),
    env: {},
    overrides: { routing },
  });

describe('routing configuration', () => {
  it('has defaults that match the engine', () => {
    const options = routingOptionsFrom(load({}).routing);
    expect(options).toEqual({
      kinds: {},
      limits: { maxRulesPerOwner: 1000, maxTargetsPerRule: 10, maxPatternBytes: 16384 },
      retention: { keepDeliveredMs: 86_400_000, keepDeadMs: 14 * 86_400_000 },
    });
  });

  it('maps per-kind settings to milliseconds', () => {
    const config = load({
      targets: {
        webhook: { retry: { delaysSeconds: [1, 60], maxAgeSeconds: 3600 }, timeoutSeconds: 2.5 },
        queue: { concurrency: 16, retry: { baseDelaySeconds: 0.5, maxDelaySeconds: 10 } },
      },
    });
    expect(routingOptionsFrom(config.routing).kinds).toEqual({
      webhook: { retry: { delaysSeconds: [1, 60], maxAgeSeconds: 3600 }, timeoutMs: 2500 },
      queue: { concurrency: 16, retry: { baseDelaySeconds: 0.5, maxDelaySeconds: 10 } },
    });
  });

  it('refuses what is not a setting, and a schedule given two ways', () => {
    expect(() => load({ targets: { webhook: { retries: 3 } } })).toThrow(
      /routing\.targets\.webhook/,
    );
    expect(() => load({ targets: { Webhook: {} } })).toThrow(/routing\.targets/);
    expect(() => load({ targets: { queue: { concurrency: 0 } } })).toThrow(/concurrency/);
    expect(() =>
      routingOptionsFrom(
        load({ targets: { queue: { retry: { delaysSeconds: [1], baseDelaySeconds: 1 } } } })
          .routing,
      ),
    ).toThrow(/routing\.targets\.queue\.retry.*not both/);
  });
});

describe('routing configuration on a running hub', () => {
  let t: TestHub;
  let rx: HttpReceiver;
  afterAll(async () => {
    await t?.close();
    await rx?.close();
  });

  it("wins over a kind's registered defaults, and a rule target's retry wins over it", async () => {
    t = await startTestHub({
      routing: {
        targets: {
          queue: { concurrency: 9, timeoutSeconds: 3, retry: { maxAgeSeconds: 60 } },
          http: { retry: { delaysSeconds: [0.01], jitter: 'none' } },
        },
      },
    });
    rx = await HttpReceiver.start();
    const { targets } = t.hub.routing;
    expect(targets.sender('queue')).toMatchObject({
      concurrency: 9,
      timeoutMs: 3000,
      // The rest of the queue kind's own policy stays.
      retry: { baseDelayMs: 200, maxDelayMs: 30_000, maxAttempts: 50, maxAgeMs: 60_000 },
    });
    // Registered with an hour-long schedule: the configured one (one quick retry) applies.
    targets.register(
      'http',
      new HttpPostTarget(rx.url),
      { retry: { delaysMs: [3_600_000, 3_600_000, 3_600_000], maxAttempts: 4 } },
      { refField: 'path', description: 'a path on the test receiver' },
    );
    expect(targets.sender('http')?.retry).toMatchObject({ delaysMs: [10], maxAttempts: 2 });

    rx.behave('/down', () => ({ status: 503 }));
    const rc = new RoutingClient(t);
    const rule = await rc.createRule('cfg', {
      name: 'down',
      pattern: { data: { title: ['down'] } },
      targets: [
        { kind: 'http', path: 'down' },
        { kind: 'http', path: 'down', retry: { maxAttempts: 3 } },
      ],
    });
    await rc.publish('cfg', [{ data: { title: 'down' } }]);
    const dead = await waitFor(async () => {
      const entries = (await rc.api('cfg', 'GET', `/v1/dlq?ruleId=${rule.id}`)).json().entries;
      return entries.length === 2 ? entries : undefined;
    }, 'both deliveries in the DLQ');
    const byIndex = Object.fromEntries(
      dead.map((d: { target: { index: number }; attempts: number; reason: string }) => [
        d.target.index,
        [d.attempts, d.reason],
      ]),
    );
    expect(byIndex).toEqual({ 0: [2, 'max-attempts'], 1: [3, 'max-attempts'] });
  });
});
