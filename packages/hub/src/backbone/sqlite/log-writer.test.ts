import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLogWriter } from './log-writer.ts';
import { openLogDatabase } from './schema.ts';

describe('the log writer thread', () => {
  it('answers requests in order and rebuilds error classes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-writer-'));
    const path = join(dir, 'events.db');
    openLogDatabase(path).close();
    const writer = startLogWriter({ path, partitions: 4, dedupeWindowMs: 60_000 });
    try {
      const body = '{"id":"a"}';
      const one = {
        tenant: 't',
        topic: 'a.dev.b.c',
        partitionKey: 't',
        dedupeKey: 'k',
        eventId: 'a',
        body,
      };
      const [first, again] = await Promise.all([
        writer.send({ op: 'append', batches: [[one]], now: 1 }),
        writer.send({ op: 'append', batches: [[one]], now: 2 }),
      ]);
      expect(first.outcomes).toEqual([{ ok: true, results: [[expect.any(Number), 1, 0]] }]);
      // The same key again, in the next request: a duplicate of position 1.
      expect(again.outcomes).toEqual([{ ok: true, results: [[expect.any(Number), 1, 1]] }]);
      await expect(
        writer.send({ op: 'lease', group: 'missing', consumer: 'c', max: 1, now: 3 }),
      ).rejects.toMatchObject({ name: 'ConsumerGroupNotFoundError', group: 'missing' });
      expect(writer.alive()).toBe(true);
    } finally {
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses every request once the thread has failed', async () => {
    // The thread cannot open a database in a directory that does not exist.
    const writer = startLogWriter({
      path: join(tmpdir(), 'portico-no-such-dir', 'x', 'events.db'),
      partitions: 4,
      dedupeWindowMs: 60_000,
    });
    await expect(writer.send({ op: 'deleteGroup', name: 'g' })).rejects.toThrow(/writer thread/);
    expect(writer.alive()).toBe(false);
    await expect(writer.send({ op: 'deleteGroup', name: 'g' })).rejects.toThrow(/writer thread/);
    await writer.close();
  });
});
