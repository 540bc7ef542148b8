import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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

  it('says a publish needs a token, without a stack trace', () => {
    const result = runPortico(['publish', '--type', 'orders.order.placed'], { cwd });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'portico publish: give --token (or PORTICO_TOKEN), or --tenant to mint a development token\n',
    );
  });

  it('names the hub it cannot reach, for publish, tail and types, without a stack trace', async () => {
    const hub = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [
      ['publish', '--type', 'orders.order.placed'],
      ['tail'],
      ['types', '--out', '-'],
    ]) {
      const result = runPortico([...args, '--hub', hub, '--token', 'x'], { cwd });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(
        new RegExp(`^portico ${args[0]}: cannot reach the hub at ${hub}: .*ECONNREFUSED.*\\n$`),
      );
    }
  });

  it('refuses a hub URL that is not http(s)', () => {
    const result = runPortico(['tail', '--hub', 'localhost:8080', '--token', 'x'], { cwd });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'portico tail: the hub URL (--hub or PORTICO_HUB) must be an http(s) URL, got "localhost:8080"\n',
    );
  });

  it('refuses a tenant id a token cannot carry, exit 2, without a stack trace', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
    try {
      const result = runPortico(['token', '--tenant', 'two words', '--data-dir', dataDir], { cwd });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^portico token: tenant must be 1-128 characters/);
      expect(result.stderr).not.toContain('    at ');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('portico usage, on a demanding user’s input', () => {
  // Where a command that wrongly went ahead would keep its development key.
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each([['app'], ['config'], ['contract']])(
    'prints `%s --help` on stdout and exits 0, like every other command',
    (command) => {
      const result = runPortico([command, '--help'], { cwd });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`portico ${command}`);
      expect(result.stderr).toBe('');
    },
  );

  it('refuses `config schema` with an extra argument', () => {
    const result = runPortico(['config', 'schema', 'extra'], { cwd });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
  });

  it('refuses an option given twice instead of keeping the last one', () => {
    const result = runPortico(
      ['token', '--tenant', 'acme', '--tenant', 'globex', '--data-dir', dataDir],
      { cwd },
    );
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^portico token: option '--tenant' is given more than once\n/);
    expect(result.stderr).toContain('portico token   --tenant T');
  });

  it('refuses a token with no scopes', () => {
    const result = runPortico(
      ['token', '--tenant', 'acme', '--scopes', '', '--data-dir', dataDir],
      { cwd },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^portico token: --scopes is empty; known: events:publish/);
  });

  it('says a port in use is in use, exit 1, without a stack trace', async () => {
    // The kernel refuses the bind while this process holds the port, even blocked in spawnSync.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const result = runPortico(
        ['start', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir],
        { cwd, env: { PORTICO_LOG_LEVEL: 'silent' } },
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toBe(
        `portico start: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`,
      );
    } finally {
      taken.close();
    }
  }, 60_000); // builds the whole hub

  it('exits (1) when start-up fails after the stores are open, instead of hanging', async () => {
    // The embedded log (a writer thread) is open when the state store's PostgreSQL turns
    // out to be unreachable: what was opened must be closed, or the process never ends.
    const port = await closedPort();
    const result = runPortico(['start', '--data-dir', dataDir], {
      cwd,
      env: { PORTICO_POSTGRES_URL: `postgres://portico@127.0.0.1:${port}/none` },
      timeoutMs: 30_000,
    });
    expect(result.signal, 'killed by the timeout: the process hung').toBeNull();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('PostgreSQL is unavailable');
  }, 60_000);

  it('says a data dir that is a file cannot be used, exit 1, without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    try {
      const result = runPortico(['start', '--data-dir', file], { cwd });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /^portico start: EEXIST: file already exists, mkdir '.*not-a-dir'\n$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
