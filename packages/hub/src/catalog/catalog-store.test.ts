import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { describeCatalogStoreContract } from './catalog-store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-catalog-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeCatalogStoreContract('sqlite', async () =>
  openSqliteDatabase(join(dir, `state-${++n}.db`)),
);
