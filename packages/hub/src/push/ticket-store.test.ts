import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteDatabase } from '../store/sqlite/sqlite-database.ts';
import { describeTicketStoreContract } from './ticket-store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-tickets-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeTicketStoreContract('sqlite', async () => openSqliteDatabase(join(dir, `state-${++n}.db`)));
