/**
 * `portico migrate`: brings the configured state store (and the NATS stream) up to this
 * version's schema, then exits, e.g. before rolling new hub nodes out. Every capability
 * owns its migrations and applies them when the hub is built, so this builds the hub
 * exactly as `portico start` does (without listening) and closes it: the same code path,
 * nothing to keep in step. Safe while other nodes run (migrations take a lock, see
 * store/migrations.ts). Prints the migrations it applied.
 */
import { mkdirSync } from 'node:fs';
import { parseCommandArgs } from './parse-command-args.ts';
import { resolve } from 'node:path';
import { buildHub } from '../app.ts';
import { loadConfig } from '../config/load-config.ts';
import { urlWithoutPassword } from '../config/url-without-password.ts';
import { openDatabase } from '../store/open-database.ts';
import type { SqlDatabase } from '../store/sql-database.ts';

export async function runMigrate(args: string[]): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: { 'data-dir': { type: 'string' }, config: { type: 'string' } },
    strict: true,
  });
  const overrides: Record<string, unknown> = { logLevel: 'warn' };
  if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
  const config = loadConfig({ file: values.config, overrides });
  const where =
    config.store.kind === 'postgres'
      ? `PostgreSQL ${urlWithoutPassword(config.store.url)}`
      : `SQLite in ${resolve(config.dataDir)}`;

  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true }); // the embedded store's file lives there
  const db = openDatabase(config.store, { dataDir });
  try {
    const before = await appliedIds(db);
    const hub = await buildHub(config);
    await hub.close();
    const after = await appliedIds(db);
    const applied = [...after].filter((id) => !before.has(id));
    process.stdout.write(
      applied.length === 0
        ? `portico migrate: ${where} is up to date (${after.size} migrations)\n`
        : `portico migrate: applied ${applied.length} migration(s) to ${where}:\n${applied.map((id) => `  ${id}\n`).join('')}`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`portico migrate: failed on ${where}: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

async function appliedIds(db: SqlDatabase): Promise<Set<string>> {
  try {
    const rows = await db.query<{ id: string }>('select id from portico_migrations');
    return new Set(rows.map((r) => r.id));
  } catch (error) {
    // A fresh store has no table yet; anything else (unreachable) is worth reporting.
    if ((error as { name?: string }).name === 'StoreUnavailableError') throw error;
    return new Set();
  }
}
