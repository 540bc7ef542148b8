/**
 * Leases as PostgreSQL session advisory locks (`pg_try_advisory_lock`), held on one
 * dedicated connection per node. PostgreSQL releases a session's locks when the session
 * ends, so a node that dies (kill -9, lost network) frees its leases as soon as the
 * server sees the connection close, and another node takes them on its next try.
 *
 * This node gives its leases up as soon as it cannot confirm the connection (a `select 1`
 * that fails or times out): it may then briefly lead nothing while the server has not
 * yet noticed, but two nodes never both believe they lead. Locks live per database, so
 * hubs on different databases never contend.
 */
import pg from 'pg';
import type { LeaseBackend } from './leadership.ts';

export type PostgresLeasesOptions = {
  /** Give up connecting, or waiting for an answer, after this long (ms). Default 5000. */
  timeoutMs?: number;
};

/** First key of the two-int4 advisory lock space: ASCII "PORT". (Migrations use the bigint space.) */
const NAMESPACE = 0x504f5254;

/** A chore name as the second int4 key (FNV-1a, 32 bits, signed). */
export function leaseKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash | 0;
}

export function createPostgresLeases(
  url: string,
  options: PostgresLeasesOptions = {},
): LeaseBackend {
  const timeoutMs = options.timeoutMs ?? 5000;
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  const held = new Set<string>();
  let closed = false;

  /** The session and its locks are gone (or about to be): forget them and drop it. */
  const drop = (lost: pg.Client) => {
    if (client !== lost) return;
    client = undefined;
    held.clear();
    lost.removeAllListeners('error');
    lost.on('error', () => undefined);
    lost.end().catch(() => undefined);
  };

  const session = (): Promise<pg.Client> => {
    if (closed) return Promise.reject(new Error('the lease connection is closed'));
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const next = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: timeoutMs,
        query_timeout: timeoutMs,
        keepAlive: true,
        application_name: 'portico-leases',
      });
      // Without a listener a dropped connection would be an unhandled 'error' event.
      next.on('error', () => drop(next));
      next.on('end', () => drop(next));
      try {
        await next.connect();
      } catch (error) {
        next.end().catch(() => undefined);
        throw error;
      }
      client = next;
      return next;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  return {
    kind: 'postgres',

    async tryAcquire(name) {
      if (held.has(name)) return true;
      const c = await session();
      try {
        const { rows } = await c.query<{ ok: boolean }>(
          'select pg_try_advisory_lock($1, $2) as ok',
          [NAMESPACE, leaseKey(name)],
        );
        if (rows[0]?.ok) held.add(name);
        return held.has(name);
      } catch (error) {
        drop(c);
        throw error;
      }
    },

    async release(name) {
      if (!held.delete(name) || !client) return;
      const c = client;
      await c
        .query('select pg_advisory_unlock($1, $2)', [NAMESPACE, leaseKey(name)])
        .catch(() => drop(c));
    },

    async verify() {
      const c = client;
      if (!c || held.size === 0) return held;
      try {
        await c.query('select 1');
      } catch {
        drop(c);
      }
      return held;
    },

    async close() {
      closed = true;
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      held.clear();
      // Ending the session releases every advisory lock it holds.
      await c?.end().catch(() => undefined);
    },
  };
}
