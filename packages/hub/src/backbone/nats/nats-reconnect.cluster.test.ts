import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';
import type { AppendInput, LogEntry } from '../event-log.ts';
import { openNatsEventLog } from './nats-event-log.ts';

// A private nats-server (own port, own store directory), so that killing and restarting
// it disturbs nobody else's tests. Needs /usr/sbin/nats-server (or PORTICO_NATS_SERVER).
const BINARY = process.env.PORTICO_NATS_SERVER ?? '/usr/sbin/nats-server';

let dir: string;
let port: number;
let server: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startServer(): Promise<void> {
  const child = spawn(BINARY, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
    stdio: 'pipe',
  });
  server = child;
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

async function killServer(): Promise<void> {
  const child = server;
  server = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'portico-nats-restart-'));
  port = await freePort();
  await startServer();
});

afterAll(async () => {
  await killServer();
  rmSync(dir, { recursive: true, force: true });
});

const event = (id: string): AppendInput => ({
  tenant: 'acme',
  topic: 'orders.dev.order.created',
  partitionKey: 'acme',
  dedupeKey: `/restart\u0000${id}`,
  event: {
    specversion: '1.0',
    id,
    source: '/restart',
    type: 'orders.order.created',
    time: '2026-01-01T00:00:00.000Z',
    tenantid: 'acme',
    correlationid: id,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    recordedtime: '2026-01-01T00:00:00.001Z',
    data: { id },
  },
});

describe('NATS event log across a NATS restart', () => {
  it('fails calls as unavailable while NATS is down, then carries on by itself', async () => {
    const log = await openNatsEventLog({
      servers: `nats://127.0.0.1:${port}`,
      requestTimeoutMs: 1_000,
    });
    const listener = await openNatsEventLog({
      servers: `nats://127.0.0.1:${port}`,
      requestTimeoutMs: 1_000,
    });
    const seen: LogEntry[] = [];
    try {
      listener.onAppend((entries) => seen.push(...entries));
      await log.ensureGroup({
        name: 'deliveries',
        ackWaitMs: 30_000,
        maxDeliver: 0,
        startAt: 'beginning',
      });
      const before = await log.append([event('b1'), event('b2')]);
      await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(2);

      await killServer();
      expect(await log.ready()).toBe(false);
      await expect(log.append([event('while-down')])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(log.read({ after: 0, limit: 10 })).rejects.toBeInstanceOf(StoreUnavailableError);

      await startServer();
      await expect.poll(() => log.ready(), { timeout: 15_000, interval: 250 }).toBe(true);
      const after = await log.append([event('a1')]);
      // The append that failed while NATS was down was never acknowledged; retrying it is safe.
      await log.append([event('while-down')]);

      // Acknowledged events survived the kill; the durable group kept its cursor.
      // (nats.js may still deliver the timed-out publish after the reconnect, before
      // a1; dedupe then makes the retry a duplicate, so 'while-down' is there once.)
      const ids = (entries: LogEntry[]) => [
        ...entries.slice(0, 2).map((e) => e.event.id),
        ...entries
          .slice(2)
          .map((e) => e.event.id)
          .sort(),
      ];
      const read = await log.read({ after: 0, limit: 10 });
      expect(ids(read)).toEqual(['b1', 'b2', 'a1', 'while-down']);
      expect(read.slice(0, 2).map((e) => e.position)).toEqual(before.map((r) => r.position));
      expect(read.map((e) => e.position)).toContain(after[0]!.position);
      const pulled = await log.pull('deliveries', 'c1', 10, 0);
      expect(ids(pulled)).toEqual(['b1', 'b2', 'a1', 'while-down']);

      // The other node's onAppend consumer was re-established by nats.js.
      await expect
        .poll(() => ids([...seen].sort((x, y) => x.position - y.position)), {
          timeout: 20_000,
          interval: 250,
        })
        .toEqual(['b1', 'b2', 'a1', 'while-down']);
    } finally {
      await Promise.all([log.close(), listener.close()]);
    }
  }, 60_000);
});
