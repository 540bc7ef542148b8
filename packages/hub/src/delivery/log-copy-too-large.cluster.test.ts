/**
 * On NATS JetStream and PostgreSQL: a queue copy that an input transform makes larger than
 * the log takes (`$.data` ten times over a 200 KB event: about 2 MB, over NATS' default
 * max_payload of 1 MiB). Every attempt failed with `'payload' max_payload size exceeded`,
 * taken for a passing fault and retried (by default 50 times over an hour); now the copy
 * goes to the DLQ at once, `too-large`. Also: an events.maxEventBytes the NATS server
 * cannot carry stops start-up, instead of failing each large publish.
 */
import { describe, expect, it } from 'vitest';
import { clusterEngines } from '../../test/cluster/engines.ts';
import { RoutingClient } from '../routing/testing/routing-client.ts';
import { startTestHub } from '../testing/test-hub.ts';
import { expectTooLargeCopyDeadLettered } from './testing/too-large-copy.ts';

const engines = clusterEngines('copysize');
const cluster = engines.hubConfig;

describe('queue copies over the log limit on NATS + PostgreSQL', () => {
  it('sends a transformed queue copy over the limit to the DLQ after one attempt', async () => {
    const t = await startTestHub(cluster());
    try {
      await expectTooLargeCopyDeadLettered(new RoutingClient(t), t.hub.config.events.maxEventBytes);
    } finally {
      await t.close();
    }
  });

  it("refuses to start when events.maxEventBytes does not fit in the server's max_payload", async () => {
    // A hub that starts anyway is closed, so the failure is the assertion's.
    const outcome = await startTestHub({
      ...cluster(),
      events: { maxEventBytes: 2 * 1024 * 1024 },
    }).then(
      (t) => t.close().then(() => 'started'),
      (error: unknown) => error,
    );
    expect(outcome).toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(
        /^events\.maxEventBytes is 2097152 bytes, but the NATS server takes messages of at most 1048576 bytes \(max_payload\).*at most 1048320/,
      ),
    });
    // Just under the server's limit, with room for the headers, starts.
    const t = await startTestHub({ ...cluster(), events: { maxEventBytes: 1_048_320 } });
    await t.close();
  });
});
