import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/cluster/engines.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPortico } from '../../test/run-portico.ts';

// PostgreSQL at 127.0.0.1:5432 (trust auth), a database of this run's own.
let database: TestDatabase;

const dir = mkdtempSync(join(tmpdir(), 'portico-migrate-pg-'));
const portico = (args: string[], env: Record<string, string>) =>
  runPortico(args, { cwd: dir, env });

beforeAll(async () => {
  database = await createTestDatabase('migrate');
});
afterAll(async () => {
  await database?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('portico migrate (PostgreSQL)', () => {
  it('migrates a fresh database once, and says so', () => {
    const env = { PORTICO_POSTGRES_URL: database.url };
    const first = portico(['migrate', '--data-dir', 'pg-data'], env);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/applied \d+ migration\(s\) to PostgreSQL postgres:\/\//);
    const second = portico(['migrate', '--data-dir', 'pg-data'], env);
    expect(second.stdout).toMatch(/is up to date \(\d+ migrations\)/);
  });

  it('exits 1 with one line when PostgreSQL cannot be reached, and keeps a password out of it', () => {
    const result = portico(['migrate', '--data-dir', 'pg-data'], {
      PORTICO_POSTGRES_URL: 'postgres://portico:s3cret@127.0.0.1:1/portico',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^portico migrate: failed on PostgreSQL .*unavailable/);
    expect(result.stderr).not.toContain('s3cret');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
