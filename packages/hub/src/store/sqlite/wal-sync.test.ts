import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import { WalSync } from './wal-sync.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-wal-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WalSync', () => {
  it('coalesces the syncs asked for while one runs into the next one', async () => {
    const db = join(dir, 'a.db');
    writeFileSync(`${db}-wal`, 'frames');
    const wal = new WalSync(db);
    const first = wal.sync();
    const second = wal.sync();
    const third = wal.sync();
    expect(second).toBe(third);
    expect(second).not.toBe(first);
    await Promise.all([first, second, third]);
    // Idle again: a new call starts a sync of its own.
    const fourth = wal.sync();
    expect(fourth).not.toBe(second);
    await fourth;
    await wal.close();
  });

  it('has nothing to sync while no WAL file exists', async () => {
    const wal = new WalSync(join(dir, 'none.db'));
    await wal.sync();
    expect(wal.failed).toBe(false);
    await wal.close();
  });

  it('fails for good once a sync has failed', async () => {
    // A directory where the WAL file should be: opening it for writing fails.
    const db = join(dir, 'b.db');
    mkdirSync(`${db}-wal`);
    const wal = new WalSync(db);
    await expect(wal.sync()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(wal.failed).toBe(true);
    await expect(wal.sync()).rejects.toBeInstanceOf(StoreUnavailableError);
    await wal.close();
  });

  it('refuses to sync after close', async () => {
    const db = join(dir, 'c.db');
    writeFileSync(`${db}-wal`, 'frames');
    const wal = new WalSync(db);
    await wal.sync();
    await wal.close();
    await expect(wal.sync()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
