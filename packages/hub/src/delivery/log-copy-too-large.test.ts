/**
 * A queue copy that an input transform makes larger than the event log takes (found by a
 * fuzzing pass: `$.data` repeated ten times over a 200 KB event, a 2 MB copy). The embedded
 * log stored it whatever its size; now every event the log stores obeys
 * events.maxEventBytes, and such a copy goes to the DLQ at once (`too-large`) instead of
 * being retried. The cluster engines' side is log-copy-too-large.cluster.test.ts.
 */
import { afterAll, beforeAll, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';
import { RoutingClient } from '../routing/testing/routing-client.ts';
import { expectTooLargeCopyDeadLettered } from './testing/too-large-copy.ts';

let t: TestHub;

beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t?.close();
});

it('sends a transformed queue copy over events.maxEventBytes to the DLQ after one attempt (SQLite)', async () => {
  await expectTooLargeCopyDeadLettered(new RoutingClient(t), t.hub.config.events.maxEventBytes);
});
