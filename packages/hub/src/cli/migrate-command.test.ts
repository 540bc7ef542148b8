import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPortico } from '../../test/run-portico.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-migrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const portico = (args: string[]) => runPortico(args, { cwd: dir });

describe('portico migrate (embedded store)', () => {
  it('applies every capability’s migrations once, then reports the store up to date', () => {
    const dataDir = join(dir, 'data');
    const first = portico(['migrate', '--data-dir', dataDir]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/applied \d+ migration\(s\) to SQLite in /);
    expect(first.stdout).toMatch(/^ {2}routing\/001-rules$/m);
    expect(first.stdout).toMatch(/^ {2}delivery\/001-deliveries$/m);
    const count = Number(/applied (\d+)/.exec(first.stdout)![1]);

    const second = portico(['migrate', '--data-dir', dataDir]);
    expect(second.status).toBe(0);
    expect(second.stdout).toBe(
      `portico migrate: SQLite in ${dataDir} is up to date (${count} migrations)\n`,
    );
  }, 60_000); // two CLI processes, each building the whole hub

  it('refuses unknown flags with the usage status', () => {
    const result = portico(['migrate', '--nope']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/portico migrate: .*nope/);
  });
});
