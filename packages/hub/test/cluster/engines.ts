/**
 * The engines for the cluster suites, isolated per test so runs never collide:
 * - a PostgreSQL database of its own on the shared server (dropped afterwards);
 * - a JetStream stream and subject prefix of their own on the shared NATS (deleted after);
 * - or, for tests that kill NATS, a private nats-server on a free port with its own store.
 * Never stops or disturbs the shared servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

export const POSTGRES = process.env.PORTICO_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432';
export const NATS = process.env.PORTICO_TEST_NATS ?? 'nats://127.0.0.1:4222';
const NATS_BINARY = process.env.PORTICO_NATS_SERVER ?? '/usr/sbin/nats-server';

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function pgAdmin<T>(
  work: (client: pg.Client) => Promise<T>,
  database = 'postgres',
): Promise<T> {
  const client = new pg.Client({ connectionString: `${POSTGRES}/${database}` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export type TestDatabase = { name: string; url: string; drop(): Promise<void> };

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `portico_${label}_${randomBytes(4).toString('hex')}`;
  await pgAdmin((c) => c.query(`create database ${name}`));
  return {
    name,
    url: `${POSTGRES}/${name}`,
    drop: () => pgAdmin((c) => c.query(`drop database if exists ${name} with (force)`)).then(),
  };
}

export type TestStream = { stream: string; subjectPrefix: string; delete(): Promise<void> };

/** A stream name and subject prefix nobody else uses; the hubs create the stream. */
export function testStream(servers: string, label: string): TestStream {
  const id = randomBytes(4).toString('hex');
  const stream = `PORTICO_${label.toUpperCase()}_${id}`;
  return {
    stream,
    subjectPrefix: `portico_${label}_${id}`,
    async delete() {
      const nc = await connect({ servers, timeout: 2_000 }).catch(() => undefined);
      if (!nc) return;
      try {
        const jsm = await jetstreamManager(nc);
        await jsm.streams.delete(stream).catch(() => undefined);
      } finally {
        await nc.close();
      }
    },
  };
}

/**
 * A database and a stream of the test file's own: made before its tests, removed after them.
 * Call it at the top of the file, before the file's own hooks: vitest runs after-hooks in
 * reverse order, so the hubs or logs the file closes in its afterAll are gone first.
 * `hubConfig()` is the store and backbone config of a hub on them.
 */
export function clusterEngines(label: string) {
  let database: TestDatabase | undefined;
  let stream: TestStream | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(label);
    stream = testStream(NATS, label);
  });
  afterAll(async () => {
    await stream?.delete();
    await database?.drop();
  });
  const made = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('clusterEngines: used before its beforeAll ran');
    return value;
  };
  return {
    database: () => made(database),
    stream: () => made(stream),
    hubConfig: () => ({
      backbone: {
        kind: 'nats',
        url: NATS,
        stream: made(stream).stream,
        subjectPrefix: made(stream).subjectPrefix,
      },
      store: { kind: 'postgres', url: made(database).url },
    }),
  };
}

/** A nats-server of the test's own (port, store dir), which the test may kill and restart. */
export class PrivateNats {
  readonly dir = mkdtempSync(join(tmpdir(), 'portico-nats-private-'));
  port = 0;
  #child: ChildProcess | undefined;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const child = spawn(
      NATS_BINARY,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir],
      { stdio: 'pipe' },
    );
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) resolve();
      };
      child.stderr?.on('data', onData);
      child.stdout?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${log}`)));
    });
  }

  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
