/**
 * Paging an endpoint's attempt log through the API when many attempts share one
 * millisecond (a burst), and the cursors `before` takes. Attempts are written straight
 * into the log, so the times are exact and nothing waits. A real hub (SQLite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAttempt, type AttemptRecord } from '../../delivery/attempt-log.ts';
import { targetKey } from '../../delivery/delivery-store.ts';
import { tenantOwner } from '../../routing/rule.ts';
import { injectJson } from '../../testing/inject-json.ts';
import { startTestHub, type TestHub } from '../../testing/test-hub.ts';
import { newestAttemptFirst } from '../../delivery/testing/attempt-order.ts';

let t: TestHub;
let auth: Record<string, string>;
let endpointId: string;
const T0 = 1_700_000_000_000;
/** What the log holds, newest first, as `startedAt/deliveryId/replay/attempt`. */
const expected: string[] = [];

const api = (method: string, url: string) =>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read many shapes
  injectJson<any>(t.hub.server, method, url, auth);

beforeAll(async () => {
  t = await startTestHub();
  auth = await t.auth('acme', ['webhooks:write']);
  const res = await injectJson<{ id: string }>(
    t.hub.server,
    'POST',
    '/v1/webhooks/endpoints',
    auth,
    { url: 'https://hooks.example.com/in', eventTypes: ['billing.>'] },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  endpointId = res.body.id;
  const owner = tenantOwner('acme');
  const records: AttemptRecord[] = [];
  const add = (deliveryId: string, replay: number, attempt: number, startedAt: number) =>
    records.push({
      deliveryId,
      replay,
      attempt,
      owner,
      targetKey: targetKey(owner, 'webhook', endpointId),
      startedAt,
      durationMs: 3,
      outcome: 'retry',
      statusCode: 503,
      error: 'HTTP 503',
      response: null,
      retryAfterMs: null,
      nextAttemptAt: null,
      deadReason: null,
    });
  add('late', 0, 1, T0 + 1);
  // 12 attempts in one millisecond: several deliveries, replays and attempts.
  for (const id of ['a', 'b', 'c']) for (const attempt of [1, 2]) add(id, 0, attempt, T0);
  for (const id of ['a', 'b', 'c']) for (const attempt of [1, 2]) add(id, 1, attempt, T0);
  add('early', 0, 1, T0 - 1);
  for (const r of records) {
    const { sql, params } = insertAttempt(r);
    await t.hub.db.execute(sql, params);
  }
  const key = (r: AttemptRecord) => `${r.startedAt}/${r.deliveryId}/${r.replay}/${r.attempt}`;
  expected.push(...records.sort(newestAttemptFirst).map(key));
});
afterAll(async () => {
  await t.close();
});

type Listed = { deliveryId: string; attempt: number; replay: number; startedAt: string };
const keyOf = (a: Listed) => `${Date.parse(a.startedAt)}/${a.deliveryId}/${a.replay}/${a.attempt}`;

describe('GET /v1/webhooks/endpoints/{id}/attempts paging', () => {
  it('returns every attempt exactly once when a page ends inside a millisecond', async () => {
    for (const limit of [1, 4, 5]) {
      const seen: string[] = [];
      let next: string | undefined;
      for (let pages = 0; pages < 50; pages++) {
        const query: string = next ? `&before=${encodeURIComponent(next)}` : '';
        const res = await api(
          'GET',
          `/v1/webhooks/endpoints/${endpointId}/attempts?limit=${limit}${query}`,
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        seen.push(...(res.body.attempts as Listed[]).map(keyOf));
        next = res.body.next;
        if (next === undefined) break;
      }
      expect(seen, `limit ${limit}`).toEqual(expected);
    }
  });

  it('still takes an RFC 3339 time as before (what `next` used to be)', async () => {
    const res = await api(
      'GET',
      `/v1/webhooks/endpoints/${endpointId}/attempts?before=${new Date(T0).toISOString()}`,
    );
    expect(res.status).toBe(200);
    expect((res.body.attempts as Listed[]).map(keyOf)).toEqual([`${T0 - 1}/early/0/1`]);
  });

  it('refuses a cursor it did not make with a 400 naming before', async () => {
    const forged = [
      'not-a-cursor',
      Buffer.from(`[${T0},"a",0]`).toString('base64url'),
      Buffer.from(`[${T0},"a\\u0000b",0,1]`).toString('base64url'),
      Buffer.from(`[${T0},"a",2147483648,1]`).toString('base64url'),
      Buffer.from(`[1e300,"a",0,1]`).toString('base64url'),
      '2025-13-45T00:00:00Z',
    ];
    for (const before of forged) {
      const res = await api(
        'GET',
        `/v1/webhooks/endpoints/${endpointId}/attempts?before=${encodeURIComponent(before)}`,
      );
      expect(res.status, before).toBe(400);
      expect(res.body.status, before).toBe(400);
      expect(res.body.errors[0].pointer, before).toBe('/before');
    }
  });
});
