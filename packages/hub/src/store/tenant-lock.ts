import type { SqlDatabase, SqlExecutor } from './sql-database.ts';

/**
 * First keys of the two-int4 advisory lock space, one per per-tenant cap: the second key is
 * the tenant's hash. In ASCII: "TICK", "CATA", "BFFC" (leases use "PORT", migrations the
 * bigint space).
 */
const NAMESPACES = {
  streamTickets: 0x5449434b,
  catalogApps: 0x43415441,
  compositions: 0x42464643,
} as const;

/**
 * Serialises one tenant's writers of `kind` until `tx` ends, so that a cap counted inside the
 * transaction holds: counted before it, concurrent creations on PostgreSQL all passed it.
 * SQLite needs nothing: its write transactions are already serial.
 */
export async function lockTenant(
  db: Pick<SqlDatabase, 'dialect'>,
  tx: SqlExecutor,
  kind: keyof typeof NAMESPACES,
  tenant: string,
): Promise<void> {
  if (db.dialect !== 'postgres') return;
  await tx.query('select pg_advisory_xact_lock($1, hashtext($2))', [NAMESPACES[kind], tenant]);
}
