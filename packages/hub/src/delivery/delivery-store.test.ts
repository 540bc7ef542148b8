import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { describeDeliveryStoreContract } from './delivery-store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-deliveries-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeDeliveryStoreContract('sqlite', async () =>
  openSqliteDatabase(join(dir, `state-${++n}.db`)),
);
