import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../../store/sqlite/sqlite-database.ts';
import { describeSqlDedupeStore } from './sql-dedupe-store.contract.ts';

describeSqlDedupeStore('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-dedupe-'));
  const db = openSqliteDatabase(join(dir, 'store.sqlite'));
  return {
    db,
    cleanup: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
