/**
 * Test scenario shared by the embedded and cluster suites: a rule whose queue target's
 * input transform repeats `$.data` ten times, fed one event of about 200 KB (under the
 * default events.maxEventBytes of 256 KiB), builds a copy of about 2 MB.
 */
import { expect } from 'vitest';
import type { QueueMessage, RoutingClient } from '../../routing/testing/routing-client.ts';
import { waitFor } from '../../testing/wait-for.ts';

const REPEATS = 10;

export async function expectTooLargeCopyDeadLettered(
  rc: RoutingClient,
  maxEventBytes: number,
): Promise<void> {
  await rc.queue('acme', 'big');
  await rc.queue('acme', 'plain');
  const paths = Object.fromEntries(Array.from({ length: REPEATS }, (_, i) => [`p${i}`, '$.data']));
  const template = `[${Object.keys(paths)
    .map((p) => `<${p}>`)
    .join(',')}]`;
  const rule = await rc.createRule('acme', {
    name: 'tenfold',
    pattern: { type: ['incident.ticket.created'] },
    targets: [
      // A short retry budget, so that before the fix the copy's fate (retried, then
      // `max-attempts`) shows quickly; the fix does not depend on it.
      {
        kind: 'queue',
        queue: 'big',
        inputTransform: { paths, template },
        retry: { maxAttempts: 3, delaysSeconds: [0.01, 0.01] },
      },
      // The event itself fits: its plain copy is delivered.
      { kind: 'queue', queue: 'plain' },
    ],
  });
  const blob = 'x'.repeat(200_000);
  const [id] = await rc.publish('acme', [{ data: { blob } }]);

  // Whichever comes first: the copy in the DLQ, or the copy stored in the queue.
  const stored: QueueMessage[] = [];
  const entry = await waitFor(async () => {
    const dead = (await rc.api('acme', 'GET', `/v1/dlq?ruleId=${rule.id}`)).json().entries[0];
    stored.push(...(await rc.drain('acme', 'big')));
    return dead ?? (stored.length > 0 ? null : undefined);
  }, 'the tenfold copy to be dead-lettered or stored');
  expect(stored.map((m) => JSON.stringify(m.event).length)).toEqual([]);
  expect(entry).toMatchObject({
    status: 'dead',
    attempts: 1,
    reason: 'too-large',
    target: { index: 0, kind: 'queue', destination: 'big' },
    event: { id },
  });
  // The error names the copy's size and the limit.
  const copyBytes = Number(/is (\d+) bytes/.exec(entry.lastError as string)?.[1]);
  expect(copyBytes).toBeGreaterThan(REPEATS * blob.length);
  expect(entry.lastError).toContain(`limit of ${maxEventBytes} bytes (events.maxEventBytes)`);

  const plain = await rc.collect('acme', 'plain', 1);
  expect(plain.map((m) => m.event.id)).toEqual([id]);
  expect(await rc.drain('acme', 'big')).toEqual([]);
}
