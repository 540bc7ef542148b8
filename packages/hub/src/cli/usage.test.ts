import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runPortico } from '../../test/run-portico.ts';

const cwd = tmpdir();

describe('portico usage', () => {
  it('prints a command’s usage on --help and exits 0', () => {
    const result = runPortico(['publish', '--help'], { cwd });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('portico publish --type domain.entity.action');
    expect(result.stdout).not.toContain('portico tail');
  });

  it('names a bad option and shows the usage, exit 2, without parseArgs’ advice', () => {
    const result = runPortico(['types', '--bogus'], { cwd });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("portico types: Unknown option '--bogus'");
    expect(result.stderr).toContain('portico types   [--out portal-events.d.ts]');
    expect(result.stderr).not.toContain('To specify a positional');
  });

  it('refuses an unknown command with the whole usage, exit 2', () => {
    const result = runPortico(['frobnicate'], { cwd });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('portico start');
  });
});
