import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.ts';

function dirWith(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
  writeFileSync(
    join(dir, 'portico.config.json'),
    typeof config === 'string' ? config : JSON.stringify(config),
  );
  return dir;
}

describe('loadConfig', () => {
  it('fills every default on an empty machine', () => {
    const config = loadConfig({ cwd: mkdtempSync(join(tmpdir(), 'portico-config-')), env: {} });
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('./.portico');
    expect(config.env).toBe('dev');
    expect(config.auth.mode).toBe('dev');
    expect(config.events.maxEventBytes).toBe(262144);
    expect(config.events.dedupeWindowSeconds).toBe(86400);
    expect(config.backbone).toEqual({ kind: 'sqlite' });
  });

  it('layers file < env < overrides', () => {
    const cwd = dirWith({ port: 9000, env: 'staging', events: { partitions: 4 } });
    expect(loadConfig({ cwd, env: {} }).port).toBe(9000);
    expect(loadConfig({ cwd, env: { PORTICO_PORT: '9100' } }).port).toBe(9100);
    const config = loadConfig({ cwd, env: { PORTICO_PORT: '9100' }, overrides: { port: 9200 } });
    expect(config.port).toBe(9200);
    expect(config.env).toBe('staging');
    expect(config.events.partitions).toBe(4);
    expect(config.events.maxBatchSize).toBe(1000);
  });

  it('a NATS or PostgreSQL URL in the environment selects that engine', () => {
    const config = loadConfig({
      cwd: dirWith({}),
      env: {
        PORTICO_NATS_URL: 'nats://127.0.0.1:4222',
        PORTICO_POSTGRES_URL: 'postgres://x@127.0.0.1/db',
      },
    });
    expect(config.backbone).toMatchObject({
      kind: 'nats',
      url: 'nats://127.0.0.1:4222',
      stream: 'PORTICO_EVENTS',
    });
    expect(config.store).toMatchObject({ kind: 'postgres', poolSize: 10 });
  });

  it.each([
    [{ port: 'eighty' }, /"port"/],
    [{ port: 70000 }, /"port".*less or equal/],
    [{ events: { maxEventBytes: -1 } }, /"events.maxEventBytes"/],
    [{ colour: 'blue' }, /"\(root\)"|colour/],
    [{ auth: { mode: 'oidc' } }, /"auth.issuer"/],
    [{ env: 'Prod!' }, /"env"/],
    [{ publicUrl: 'not a url' }, /"publicUrl"/],
    [{ gateway: { cors: { origins: ['*'], credentials: true } } }, /"gateway.cors.origins"/],
    // A union names its choices, or the error inside the variant its `kind` chose.
    [{ logLevel: 'verbose' }, /"logLevel": expected one of fatal, error, warn, info/],
    [
      { backbone: { kind: 'kafka' } },
      /"backbone.kind": expected one of sqlite, nats \(got "kafka"\)/,
    ],
    [{ store: { kind: 'postgres' } }, /"store.url": expected required property/],
    [{ store: { kind: 'postgres', url: 'postgres://x@h/db', poolSize: 0 } }, /"store.poolSize"/],
  ])('rejects %j naming the key', (config, message) => {
    expect(() => loadConfig({ cwd: dirWith(config), env: {} })).toThrow(message);
  });

  it('rejects a non-integer PORTICO_PORT and a broken file', () => {
    expect(() => loadConfig({ cwd: dirWith({}), env: { PORTICO_PORT: 'x' } })).toThrow(
      /PORTICO_PORT/,
    );
    expect(() => loadConfig({ cwd: dirWith('{ nope'), env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ file: '/does/not/exist.json', env: {} })).toThrow(/does not exist/);
  });

  it('never repeats a secret in its message', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ http: { metricsToken: 'too-short-pw' } }, /"http.metricsToken".*got a secret, not shown/],
      [
        { store: { kind: 'postgres', url: 'postgres://app:s3cr3t-pw@db/portico', poolSize: 0 } },
        /"store.poolSize"/,
      ],
      [
        { backbone: { kind: 'nats', url: 'nats://app:s3cr3t-pw@h:4222', stream: 'a b' } },
        /"backbone.stream": expected string to match '\^\[A-Za-z0-9_-\]\+\$'/,
      ],
      [{ store: { kind: 'mysql', url: 'mysql://app:s3cr3t-pw@db/portico' } }, /"store.kind"/],
      [
        { port: 1, store: { kind: 'postgres', url: 'postgres://app:s3cr3t-pw@db/p', x: 1 } },
        /"store.x"/,
      ],
    ];
    for (const [config, message] of cases) {
      const error = catchError(() => loadConfig({ cwd: dirWith(config), env: {} }));
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/s3cr3t|too-short-pw/);
    }
    const fromEnv = catchError(() =>
      loadConfig({ cwd: dirWith({}), env: { PORTICO_METRICS_TOKEN: 'too-short-pw' } }),
    );
    expect(fromEnv.message).not.toContain('too-short-pw');
  });

  it('reads a file saved with a byte order mark', () => {
    expect(loadConfig({ cwd: dirWith('\uFEFF{"port": 9000}'), env: {} }).port).toBe(9000);
  });

  it('says a config file it cannot read cannot be read, not that it is bad JSON', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'portico-config-'));
    mkdirSync(join(cwd, 'portico.config.json'));
    expect(() => loadConfig({ cwd, env: {} })).toThrow(
      /^cannot read config file .*portico\.config\.json: EISDIR/,
    );
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
