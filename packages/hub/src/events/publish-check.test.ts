import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventLog } from '../backbone/sqlite/sqlite-event-log.ts';
import { EventIngestor } from './ingest-events.ts';
import { createIngestMetrics } from './ingest-metrics.ts';
import type { PublishCheck } from './publish-check.ts';
import { ProblemError } from '../http/problem.ts';

const principal = {
  tenant: 'acme',
  subject: 'u',
  scopes: new Set(['events:publish']),
  expiresAt: 0,
};
const noPii: PublishCheck = {
  name: 'no-ssn',
  check: (event) =>
    (event.data as { ssn?: string } | undefined)?.ssn
      ? {
          outcome: 'reject',
          detail: 'data.ssn must not be published',
          errors: [{ pointer: '/data/ssn', detail: 'PII' }],
        }
      : { outcome: 'accept' },
};
const warnOnDraft: PublishCheck = {
  name: 'schema',
  check: (event) =>
    (event.data as { draft?: boolean } | undefined)?.draft
      ? { outcome: 'accept', warnings: ['draft payload'] }
      : { outcome: 'accept' },
};

function ingestor() {
  const log = openSqliteEventLog({
    path: join(mkdtempSync(join(tmpdir(), 'portico-check-')), 'events.db'),
  });
  const registry = new Registry();
  return {
    log,
    registry,
    ingestor: new EventIngestor({
      log,
      env: 'dev',
      limits: { maxEventBytes: 65536, maxBatchSize: 10 },
      metrics: createIngestMetrics(registry),
      checks: [noPii, warnOnDraft],
    }),
  };
}
const event = (id: string, data: unknown) => ({
  specversion: '1.0',
  id,
  source: '/t',
  type: 'hr.person.hired',
  data,
});

describe('publish-time checks', () => {
  it('a rejection fails the whole batch with 422, pointing into the failing event, and writes nothing', async () => {
    const { log, ingestor: ing } = ingestor();
    const attempt = ing.ingest({
      principal,
      mode: 'batch',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      events: [event('1', {}), event('2', { ssn: '123' })],
    });
    await expect(attempt).rejects.toBeInstanceOf(ProblemError);
    const problem = (await attempt.catch((e: ProblemError) => e)) as ProblemError;
    expect(problem.status).toBe(422);
    expect(problem.toBody()).toMatchObject({
      check: 'no-ssn',
      index: 1,
      errors: [{ pointer: '/1/data/ssn' }],
    });
    expect((await log.read({ after: 0, limit: 10 })).entries).toEqual([]);
    await log.close();
  });

  it('a warning accepts the event, marks it, and counts it', async () => {
    const { log, registry, ingestor: ing } = ingestor();
    await ing.ingest({
      principal,
      mode: 'structured',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      events: [event('3', { draft: true })],
    });
    const [stored] = (await log.read({ after: 0, limit: 10 })).entries;
    expect(stored!.event.validationwarnings).toBe('schema: draft payload');
    expect(await registry.metrics()).toMatch(
      /portico_publish_check_warnings_total\{check="schema"\} 1/,
    );
    await log.close();
  });
});

describe('an event the log refuses as too large', () => {
  it('is a 413 naming it, not a 500, when the log takes less than ingest does', async () => {
    // As after a reconnect to a NATS server with a smaller max_payload: here a SQLite log
    // whose own limit is below ingest's.
    const log = openSqliteEventLog({
      path: join(mkdtempSync(join(tmpdir(), 'portico-too-large-')), 'events.db'),
      maxEventBytes: 400,
    });
    const small = new EventIngestor({
      log,
      env: 'dev',
      limits: { maxEventBytes: 65536, maxBatchSize: 10 },
      metrics: createIngestMetrics(new Registry()),
    });
    try {
      const error = await small
        .ingest({
          events: [event('fits', { a: 1 }), event('big', { text: 'x'.repeat(1000) })],
          mode: 'batch',
          principal,
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ProblemError);
      expect((error as ProblemError).status).toBe(413);
      expect((error as ProblemError).message).toMatch(/^event 1 is \d+ bytes; the limit is 400$/);
      expect((await log.read({ after: 0, limit: 10 })).entries).toEqual([]);
    } finally {
      await log.close();
    }
  });
});
