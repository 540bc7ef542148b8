/** The dictionary store contract on the embedded SQLite store. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { describeDictionaryStoreContract } from './dictionary-store.contract.ts';

describeDictionaryStoreContract('sqlite', async () =>
  openSqliteDatabase(join(mkdtempSync(join(tmpdir(), 'portico-dictionary-')), 'state.db')),
);
