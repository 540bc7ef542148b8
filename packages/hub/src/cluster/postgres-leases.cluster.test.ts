import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeadership } from './leader-scheduler.ts';
import { createPostgresLeases } from './postgres-leases.ts';

// PostgreSQL at 127.0.0.1:5432 (trust auth). Advisory locks are per database, so this
// run's database keeps its leases away from every other test and hub.
const SERVER = process.env.PORTICO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
const database = `portico_leases_${randomBytes(4).toString('hex')}`;
const url = `${SERVER}/${database}`;

async function admin<T>(work: (client: pg.Client) => Promise<T>, db = 'postgres'): Promise<T> {
  const client = new pg.Client({ connectionString: `${SERVER}/${db}` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

beforeAll(() => admin((c) => c.query(`create database ${database}`)));
afterAll(() => admin((c) => c.query(`drop database if exists ${database} with (force)`)));

describe('leases on PostgreSQL advisory locks', () => {
  it('gives a lease to one node at a time and frees it when the holder goes away', async () => {
    const a = createPostgresLeases(url);
    const b = createPostgresLeases(url);
    try {
      expect(await a.tryAcquire('retention')).toBe(true);
      expect(await a.tryAcquire('retention')).toBe(true);
      expect(await b.tryAcquire('retention')).toBe(false);
      expect(await b.tryAcquire('other')).toBe(true);
      await a.release('retention');
      expect(await b.tryAcquire('retention')).toBe(true);
      expect(await a.tryAcquire('retention')).toBe(false);
      await b.close(); // the session ends: PostgreSQL releases its locks
      expect(await a.tryAcquire('retention')).toBe(true);
      expect([...(await a.verify())]).toEqual(['retention']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('loses its leases with its session (pg_terminate_backend) and another node takes over', async () => {
    const a = createPostgresLeases(url);
    const b = createPostgresLeases(url);
    try {
      expect(await a.tryAcquire('retention')).toBe(true);
      await admin(
        (c) =>
          c.query(
            `select pg_terminate_backend(pid) from pg_stat_activity
              where datname = $1 and application_name = 'portico-leases' and pid in
                (select pid from pg_locks where locktype = 'advisory')`,
            [database],
          ),
        database,
      );
      await expect.poll(async () => (await a.verify()).size).toBe(0);
      expect(await b.tryAcquire('retention')).toBe(true);
      // a reconnects on its next try, and finds the lease taken.
      expect(await a.tryAcquire('retention')).toBe(false);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('runs a chore on exactly one of several nodes, and fails over when the leader stops', async () => {
    const runsBy = [0, 0, 0];
    const nodes = runsBy.map((_, i) => {
      const leadership = createLeadership(createPostgresLeases(url), { checkIntervalMs: 50 });
      leadership.runAsLeader(
        'chore',
        async () => {
          runsBy[i]!++;
        },
        { intervalMs: 10 },
      );
      return leadership;
    });
    try {
      await expect.poll(() => nodes.filter((n) => n.isLeader('chore')).length).toBe(1);
      const leader = nodes.findIndex((n) => n.isLeader('chore'));
      await expect.poll(() => runsBy[leader]! >= 3).toBe(true);
      expect(runsBy.filter((runs) => runs > 0)).toHaveLength(1);

      await nodes[leader]!.stop();
      await expect
        .poll(() => nodes.filter((n, i) => i !== leader && n.isLeader('chore')).length)
        .toBe(1);
      const next = nodes.findIndex((n, i) => i !== leader && n.isLeader('chore'));
      await expect.poll(() => runsBy[next]! > 0).toBe(true);
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  });
});
