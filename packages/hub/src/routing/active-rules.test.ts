/** What the compiled rule set lets through: tenancy, the reserved domain, copies, and other nodes' changes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../backbone/event-log.ts';
import type { SqlDatabase } from '../store/sql-database.ts';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { ActiveRules } from './active-rules.ts';
import { ROUTING_MIGRATIONS } from './migrations.ts';
import { RuleLimitError, RuleNameTakenError, RuleStore } from './rule-store.ts';
import { PLATFORM, tenantOwner, type RuleInput } from './rule.ts';

const quiet = { error: () => undefined, warn: () => undefined };
let dir: string;
let db: SqlDatabase;
let store: RuleStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-rules-'));
  db = openSqliteDatabase(join(dir, 'state.db'));
  await db.migrate(ROUTING_MIGRATIONS);
  store = new RuleStore(db);
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const input = (
  name: string,
  pattern: Record<string, unknown> = { type: [{ prefix: 'incident.' }] },
): RuleInput => ({
  name,
  description: '',
  enabled: true,
  pattern,
  targets: [],
});

function entry(
  tenant: string,
  topic = 'incident.dev.ticket.created',
  type = 'incident.ticket.created',
): LogEntry {
  return {
    position: 1,
    partition: 0,
    tenant,
    topic,
    appendedAt: 0,
    event: {
      specversion: '1.0',
      id: 'e',
      source: '/s',
      type,
      time: '',
      tenantid: tenant,
      correlationid: 'e',
      traceparent: '',
      recordedtime: '',
    },
  };
}

describe('active rules', () => {
  it("matches a tenant rule only on its own tenant's events, a platform rule on all", async () => {
    const acme = await store.create(tenantOwner('acme'), input('acme-incidents'), 10);
    // A tenant rule that names another tenant still never sees that tenant's events.
    const sneaky = await store.create(
      tenantOwner('acme'),
      input('sneaky', { tenantid: ['globex'] }),
      10,
    );
    const platform = await store.create(PLATFORM, input('all-incidents'), 10);
    const active = new ActiveRules({ store, logger: quiet });
    await active.reload();
    expect(
      active
        .match(entry('acme'))
        .map((r) => r.id)
        .sort(),
    ).toEqual([acme.id, platform.id].sort());
    expect(active.match(entry('globex')).map((r) => r.id)).toEqual([platform.id]);
    expect(sneaky.id).toBeDefined();
  });

  it('keeps tenant rules out of the portico. domain, and every rule off queue and push copies', async () => {
    await store.create(tenantOwner('acme'), input('anything', { id: [{ exists: true }] }), 10);
    const platform = await store.create(PLATFORM, input('ops', { id: [{ exists: true }] }), 10);
    const active = new ActiveRules({ store, logger: quiet });
    await active.reload();
    expect(
      active
        .match(
          entry(
            'acme',
            'portico.dev.webhook.endpoint-disabled',
            'portico.webhook.endpoint-disabled',
          ),
        )
        .map((r) => r.id),
    ).toEqual([platform.id]);
    expect(active.match(entry('acme', 'portico.dev.queue.oncall'))).toEqual([]);
    expect(active.match(entry('acme', 'portico.dev.push.alerts'))).toEqual([]);
  });

  it("notices another node's rule change through the version row", async () => {
    const here = new ActiveRules({ store, logger: quiet, checkIntervalMs: 0 });
    await here.reload();
    expect(here.match(entry('acme'))).toEqual([]);
    const elsewhere = new RuleStore(db);
    const created = await elsewhere.create(tenantOwner('acme'), input('from-elsewhere'), 10);
    await here.refreshIfStale();
    expect(here.match(entry('acme')).map((r) => r.id)).toEqual([created.id]);
    await elsewhere.update(tenantOwner('acme'), created.id, {
      ...input('from-elsewhere'),
      enabled: false,
    });
    await here.refreshIfStale();
    expect(here.match(entry('acme'))).toEqual([]);
  });

  it('skips a stored rule whose pattern is no longer valid instead of stopping all routing', async () => {
    const good = await store.create(tenantOwner('acme'), input('good'), 10);
    const bad = await store.create(tenantOwner('acme'), input('bad'), 10);
    await db.execute('update routing_rules set pattern = $1 where id = $2', [
      '{"type": "not-a-list"}',
      bad.id,
    ]);
    const active = new ActiveRules({ store, logger: quiet });
    await active.reload();
    expect(active.match(entry('acme')).map((r) => r.id)).toEqual([good.id]);
  });
});

describe('rule store', () => {
  it('enforces the per-owner limit and unique names, and bumps the version on every write', async () => {
    const v0 = await store.version();
    const a = await store.create(tenantOwner('acme'), input('a'), 2);
    await store.create(tenantOwner('acme'), input('b'), 2);
    await expect(store.create(tenantOwner('acme'), input('c'), 2)).rejects.toBeInstanceOf(
      RuleLimitError,
    );
    await expect(store.create(tenantOwner('globex'), input('a'), 2)).resolves.toBeDefined();
    await expect(store.update(tenantOwner('acme'), a.id, input('b'))).rejects.toBeInstanceOf(
      RuleNameTakenError,
    );
    expect(await store.update(tenantOwner('globex'), a.id, input('z'))).toBeUndefined();
    expect(await store.delete(tenantOwner('acme'), a.id)).toBe(true);
    // The 3 creates, the update that found nothing and the delete bump it; the 2 refused writes roll back.
    expect((await store.version()) - v0).toBe(5);
  });
});
