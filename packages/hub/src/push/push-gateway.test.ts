/**
 * The gateway's core on a real SQLite event log, with a fake transport that records what
 * would go on the wire and lets a test pretend the peer reads slowly.
 */
import { waitFor } from '../testing/wait-for.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppendInput, EventLog } from '../backbone/event-log.ts';
import { openSqliteEventLog, type SqliteEventLog } from '../backbone/sqlite/sqlite-event-log.ts';
import type { Principal } from '../auth/principal.ts';
import { EncodedEvent } from './encoded-event.ts';
import { PushError } from './push-error.ts';
import { PushGateway, type PushLimits } from './push-gateway.ts';
import { PushStats } from './push-stats.ts';
import type { ReplayJob } from './replay-job.ts';
import { CloseReason, type Transport } from './transport.ts';

type Received = { id?: number; subscriptions: string[]; position: number; topic: string };

class FakeTransport implements Transport {
  readonly kind: 'sse' | 'ws';
  /** SSE frames split apart again (so joined batches are exercised); WS writes one each. */
  readonly joinable: boolean;
  readonly writes: Buffer[] = [];
  readonly received: Received[] = [];
  readonly controls: Array<{ type: string; payload: Record<string, unknown> }> = [];
  /** What the "socket" holds; tests raise it to play a slow reader. */
  queued = 0;
  ended: { reason: CloseReason; detail: string } | undefined;
  #listeners: Array<() => void> = [];

  constructor(kind: 'sse' | 'ws' = 'ws') {
    this.kind = kind;
    this.joinable = kind === 'sse';
  }
  get closed() {
    return this.ended !== undefined;
  }
  queuedBytes() {
    return this.queued;
  }
  frameEvent(encoded: EncodedEvent, ids: readonly string[], withId: boolean) {
    return this.kind === 'sse' ? encoded.sse(ids, withId) : encoded.ws(ids);
  }
  write(frame: Buffer) {
    const text = frame.toString();
    this.writes.push(frame);
    if (this.kind === 'ws') {
      this.received.push(JSON.parse(text) as Received);
      return;
    }
    for (const message of text.split('\n\n').filter(Boolean)) {
      const id = /^id: (\d+)\n/.exec(message)?.[1];
      const body = JSON.parse(message.slice(message.indexOf('data: ') + 6)) as Received;
      this.received.push({ ...body, ...(id ? { id: Number(id) } : {}) });
    }
  }
  control(type: string, payload: Record<string, unknown>) {
    this.controls.push({ type, payload });
  }
  /** Cork depth, as a Node stream counts it (an uncork without a cork does nothing). */
  corks = 0;
  cork() {
    this.corks++;
  }
  uncork() {
    if (this.corks > 0) this.corks--;
  }
  flushCork() {}
  heartbeat() {
    return true;
  }
  async drained(bytes: number) {
    while (!this.closed && this.queued > bytes)
      await new Promise((resolve) => setTimeout(resolve, 1));
  }
  end(reason: CloseReason, detail: string) {
    if (this.ended) return;
    this.ended = { reason, detail };
    for (const listener of this.#listeners.splice(0)) listener();
  }
  onClose(listener: () => void) {
    if (this.ended) listener();
    else this.#listeners.push(listener);
  }
  positions(subscription?: string) {
    return this.received
      .filter((m) => subscription === undefined || m.subscriptions.includes(subscription))
      .map((m) => m.position);
  }
}

const principal = (tenant: string, subject = 'u1', scopes = ['events:read']): Principal => ({
  tenant,
  subject,
  scopes: new Set(scopes),
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
});

const LIMITS: PushLimits = {
  heartbeatMs: 60_000,
  maxQueueBytes: 64 * 1024,
  maxConnectionsPerTenant: 100,
  maxSubscriptionsPerTenant: 1000,
  maxSubscriptionsPerConnection: 50,
  replayPageSize: 7,
};

let dir: string;
let log: SqliteEventLog;
let clock = Date.now();
let seq = 0;
const gateways: PushGateway[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portico-push-'));
  clock = Date.now();
  log = openSqliteEventLog({ path: join(dir, 'events.db'), clock: () => clock });
});
afterEach(async () => {
  for (const gateway of gateways.splice(0)) await gateway.stop();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

function gateway(limits: Partial<PushLimits> = {}, eventLog: EventLog = log): PushGateway {
  const g = new PushGateway({
    log: eventLog,
    limits: { ...LIMITS, ...limits },
    stats: new PushStats(),
  });
  g.start();
  gateways.push(g);
  return g;
}

function input(tenant: string, topic: string, data: unknown = {}): AppendInput {
  const id = `ev-${++seq}`;
  return {
    tenant,
    topic,
    partitionKey: tenant,
    dedupeKey: `/t:${id}`,
    event: {
      specversion: '1.0',
      id,
      source: '/t',
      type: topic
        .split('.')
        .filter((_, i) => i !== 1)
        .join('.'),
      time: new Date().toISOString(),
      tenantid: tenant,
      correlationid: id,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      recordedtime: new Date().toISOString(),
      data,
    },
  };
}

async function append(...inputs: AppendInput[]): Promise<number[]> {
  return (await log.append(inputs)).map((r) => r.position);
}

/** The log, but onAppend listeners hear of appends a little later (order kept). */
function withLateNotifications(inner: EventLog): EventLog {
  const late: EventLog = Object.create(inner) as EventLog;
  late.onAppend = (listener) =>
    inner.onAppend((entries) => {
      setTimeout(() => listener(entries), 2);
    });
  return late;
}

const INC = 'incident.dev.ticket.created';
const BILL = 'billing.dev.invoice.paid';

describe('live delivery', () => {
  it('sends one message per connection naming every subscription it matched, and nothing to others', async () => {
    const g = gateway();
    const a = new FakeTransport();
    const b = new FakeTransport();
    const other = new FakeTransport();
    const ca = g.open(principal('acme'), a);
    g.subscribe(ca, [
      { id: 'inc', topic: 'incident.*.ticket.created' },
      { id: 'all', topic: '>' },
    ]);
    g.subscribe(g.open(principal('acme'), b), [{ id: 'billing', topic: 'billing.>' }]);
    g.subscribe(g.open(principal('globex'), other), [{ id: 'all', topic: '>' }]);

    const [position] = await append(input('acme', INC));
    await waitFor(() => a.received.length === 1, 'the message');
    expect(a.received[0]!.subscriptions.sort()).toEqual(['all', 'inc']);
    expect(a.received[0]!.position).toBe(position);
    expect(b.received).toEqual([]);
    expect(other.received).toEqual([]);
  });

  it('writes an append batch to each connection at once, one Buffer shared by the same deliveries', async () => {
    const g = gateway();
    const [t1, t2, t3] = [
      new FakeTransport('sse'),
      new FakeTransport('sse'),
      new FakeTransport('sse'),
    ];
    g.subscribe(g.open(principal('acme'), t1), [{ id: 'inc', topic: 'incident.>' }]);
    g.subscribe(g.open(principal('acme'), t2), [{ id: 'inc', topic: 'incident.>' }]);
    g.subscribe(g.open(principal('acme'), t3), [{ id: 'all', topic: '>' }]);
    const positions = await append(input('acme', INC), input('acme', BILL), input('acme', INC));
    await waitFor(() => t3.received.length === 3, 'the batch');
    expect(t1.positions()).toEqual([positions[0], positions[2]]);
    expect(t3.positions()).toEqual(positions);
    expect(t1.writes).toHaveLength(1);
    expect(t2.writes[0]).toBe(t1.writes[0]); // joined once for both
    expect(t3.writes).toHaveLength(1);
    // Each message kept its own id line.
    expect(t3.received.map((m) => m.id)).toEqual(positions);
  });

  it('in a run of events on one topic, names per event the filtered subscriptions it passed', async () => {
    const g = gateway();
    const t = new FakeTransport('sse');
    const c = g.open(principal('acme'), t);
    g.subscribe(c, [
      { id: 'all', topic: 'incident.>' },
      { id: 'high', topic: 'incident.>', filter: { data: { severity: ['high'] } } },
    ]);
    const positions = await append(
      input('acme', INC, { severity: 'low' }),
      input('acme', INC, { severity: 'high' }),
      input('acme', INC, { severity: 'low' }),
      input('acme', BILL, { severity: 'high' }),
      input('acme', INC, { severity: 'high' }),
    );
    await waitFor(() => t.received.length === 4, 'the incidents');
    expect(t.received.map((m) => [m.position, [...m.subscriptions].sort()])).toEqual([
      [positions[0], ['all']],
      [positions[1], ['all', 'high']],
      [positions[2], ['all']],
      [positions[4], ['all', 'high']],
    ]);
  });

  it('applies content filters, compiling each distinct filter once for all its subscribers', async () => {
    const g = gateway();
    const high = { data: { severity: ['high'] } };
    const t1 = new FakeTransport();
    const t2 = new FakeTransport();
    const c1 = g.open(principal('acme'), t1);
    const c2 = g.open(principal('acme'), t2);
    g.subscribe(c1, [{ id: 'high', topic: 'incident.>', filter: high }]);
    g.subscribe(c2, [
      { id: 'high', topic: 'incident.>', filter: { data: { severity: ['high'] } } },
    ]);
    expect(g.filterCount).toBe(1);

    const [low, hot] = await append(
      input('acme', INC, { severity: 'low' }),
      input('acme', INC, { severity: 'high' }),
    );
    await waitFor(() => t1.received.length === 1 && t2.received.length === 1, 'the high event');
    await append(input('acme', INC, { severity: 'high' })); // a later event proves "low" was not merely slow
    await waitFor(() => t1.received.length === 2, 'the second high event');
    expect(t1.positions()).not.toContain(low);
    expect(t1.positions()[0]).toBe(hot);

    g.unsubscribe(c1, 'high');
    expect(g.filterCount).toBe(1);
    g.unsubscribe(c2, 'high');
    expect(g.filterCount).toBe(0);
  });
});

describe('resume: replay then live', () => {
  it('reads on past pages the log stopped early (a rare topic in a busy log): no event is skipped', async () => {
    // This log examines at most 4 rows of a tenant per read with a topic pattern, as the
    // hub's does 10,000: most reads of this replay come back short or empty before the
    // log's end. Taking one for the end would go live and skip the older matches.
    const bounded = openSqliteEventLog({ path: join(dir, 'bounded.db'), scanRows: 4 });
    try {
      const incidents: number[] = [];
      for (let i = 0; i < 5; i++) {
        await bounded.append(Array.from({ length: 9 }, () => input('acme', BILL)));
        incidents.push(...(await bounded.append([input('acme', INC)])).map((r) => r.position));
      }
      const g = gateway({ replayPageSize: 5 }, bounded);
      const resumed = new FakeTransport();
      g.subscribe(g.open(principal('acme'), resumed), [{ id: 'inc', topic: INC }], { from: 1 });
      const counted = new FakeTransport();
      g.subscribe(g.open(principal('acme'), counted), [{ id: 'inc', topic: INC }], { last: 4 });
      for (const t of [resumed, counted])
        await waitFor(() => t.controls.some((m) => m.type === 'caught-up'), 'the replay');
      expect(resumed.positions('inc')).toEqual(incidents);
      expect(counted.positions('inc')).toEqual(incidents.slice(1));
    } finally {
      await bounded.close();
    }
  });

  it('has no gap and no duplicate at the seam while events keep arriving', async () => {
    // As in NATS mode, live notifications trail the log: an event may already be readable
    // (and replayed) when its notification arrives.
    const g = gateway({ replayPageSize: 7 }, withLateNotifications(log));
    const before: number[] = [];
    for (let i = 0; i < 60; i++)
      before.push(...(await append(input('acme', INC), input('acme', BILL), input('globex', INC))));
    const from = before[30]!;

    const t = new FakeTransport();
    const c = g.open(principal('acme'), t);
    const appending = (async () => {
      const after: number[] = [];
      for (let i = 0; i < 60; i++)
        after.push(...(await append(input('acme', INC), input('acme', BILL))));
      return after;
    })();
    g.subscribe(c, [{ id: 'inc', topic: 'incident.*.ticket.created' }], { from });
    const after = await appending;

    const all = await log.read({
      tenant: 'acme',
      topicPattern: 'incident.*.ticket.created',
      after: from,
      limit: 10_000,
    });
    const expected = all.entries.map((e) => e.position);
    expect(expected.length).toBeGreaterThan(60);
    await waitFor(() => t.received.length >= expected.length, 'every event');
    await append(input('acme', INC)); // one more: a late duplicate would show up before it
    await waitFor(() => t.received.length >= expected.length + 1, 'the last event');
    expect(t.positions().slice(0, -1)).toEqual(expected);
    expect(after.length).toBe(120);
    expect(t.controls.find((m) => m.type === 'caught-up')?.payload.subscriptions).toEqual(['inc']);
  });

  it('when live events overflow the replay buffer it re-reads them from the log instead of losing them', async () => {
    // The reads that would end the replay (short pages) each see a burst of large events
    // appended just after them: more than the buffer (maxQueueBytes) may hold, so the
    // buffer is dropped and the replay must read the log again rather than go live.
    let bursts = 0;
    const slowLog: EventLog = Object.create(log) as EventLog;
    slowLog.read = async (options) => {
      const page = await log.read(options);
      if (page.end && bursts++ < 3)
        await log.append(
          Array.from({ length: 20 }, () => input('acme', INC, { pad: 'x'.repeat(1024) })),
        );
      return page;
    };
    const g = gateway({ replayPageSize: 5, maxQueueBytes: 8 * 1024 }, slowLog);
    for (let i = 0; i < 12; i++) await append(input('acme', INC));

    const t = new FakeTransport();
    const c = g.open(principal('acme'), t);
    g.subscribe(c, [{ id: 'inc', topic: '>' }], { from: 0 });
    await waitFor(() => t.controls.some((m) => m.type === 'caught-up'), 'the end of the replay');
    await append(input('acme', INC));

    const all = (await log.read({ tenant: 'acme', after: 0, limit: 10_000 })).entries.map(
      (e) => e.position,
    );
    await waitFor(() => t.received.length >= all.length, 'every event');
    expect(t.positions()).toEqual(all);
    expect(g.stats.replayBufferOverflows).toBeGreaterThan(0);
  });

  it('sends the buffered events as the wire drains, and re-reads the log if the buffer overflows meanwhile', async () => {
    // The replay's only read is short, and events published just after it are buffered.
    // The peer holds a full queue, so sending the buffer waits; more events then overflow
    // it. Whatever was dropped must come from the log, in order, once.
    let reads = 0;
    const slowLog: EventLog = Object.create(log) as EventLog;
    slowLog.read = async (options) => {
      const page = await log.read(options);
      if (reads++ === 0)
        await log.append(
          Array.from({ length: 3 }, () => input('acme', INC, { pad: 'x'.repeat(1024) })),
        );
      return page;
    };
    const g = gateway({ replayPageSize: 5, maxQueueBytes: 8 * 1024 }, slowLog);
    const t = new FakeTransport();
    let waits = 0;
    const drained = t.drained.bind(t);
    t.drained = (bytes) => (waits++, drained(bytes));
    t.queued = 8 * 1024;
    const c = g.open(principal('acme'), t);
    g.subscribe(c, [{ id: 'inc', topic: '>' }], { from: 0 });
    await waitFor(() => waits > 0, 'the buffered events to wait for the wire');
    expect(t.received).toEqual([]);
    await append(
      ...Array.from({ length: 20 }, () => input('acme', INC, { pad: 'y'.repeat(1024) })),
    );
    expect(g.stats.replayBufferOverflows).toBeGreaterThan(0);
    t.queued = 0;
    await waitFor(() => t.controls.some((m) => m.type === 'caught-up'), 'the end of the replay');
    await append(input('acme', INC));

    const all = (await log.read({ tenant: 'acme', after: 0, limit: 10_000 })).entries.map(
      (e) => e.position,
    );
    expect(all.length).toBe(24);
    await waitFor(() => t.received.length >= all.length, 'every event');
    expect(t.positions()).toEqual(all);
  });

  it('answers a position older than retention with a reset, then continues live', async () => {
    const g = gateway();
    const old = await append(input('acme', INC), input('acme', INC), input('acme', INC));
    clock += 10 * 3600_000;
    const kept = await append(input('acme', INC));
    await log.applyRetention({ maxAgeMs: 3600_000 });
    expect((await log.bounds()).first).toBe(kept[0]);

    const t = new FakeTransport();
    g.subscribe(g.open(principal('acme'), t), [{ id: 'inc', topic: '>' }], { from: old[0]! });
    const reset = await waitFor(() => t.controls.find((m) => m.type === 'reset'), 'the reset');
    expect(reset.payload).toEqual({
      subscriptions: ['inc'],
      reason: 'retention',
      requested: old[0],
      first: kept[0],
      resumeFrom: kept[0],
    });
    await waitFor(() => t.controls.some((m) => m.type === 'caught-up'), 'going live');
    const [next] = await append(input('acme', INC));
    await waitFor(() => t.received.length === 1, 'the live event');
    expect(t.positions()).toEqual([next]);
  });

  it('answers a position ahead of the log (a wiped log) with a reset too', async () => {
    const g = gateway();
    await append(input('acme', INC));
    const t = new FakeTransport();
    g.subscribe(g.open(principal('acme'), t), [{ id: 'inc', topic: '>' }], { from: 999 });
    const reset = await waitFor(() => t.controls.find((m) => m.type === 'reset'), 'the reset');
    expect(reset.payload).toMatchObject({ reason: 'ahead-of-log', requested: 999, resumeFrom: 1 });
  });

  it('gives SSE ids only to messages that are safe resume points for the connect-time subscriptions', async () => {
    const g = gateway({ replayPageSize: 2, maxQueueBytes: 10_000 });
    for (let i = 0; i < 10; i++) await append(input('acme', INC), input('acme', BILL));
    const t = new FakeTransport('sse');
    // Within the replay's share (half the limit), above where it resumes reading (a quarter):
    // the replay stalls after its first page.
    t.queued = 3_000;
    const c = g.open(principal('acme'), t);
    g.subscribe(c, [{ id: 'inc', topic: INC }], { from: 0, primary: true });
    await waitFor(() => t.received.length === 2, 'the first page');

    // While the connect-time replay is stalled: a live subscription and a replaying one.
    g.subscribe(c, [{ id: 'bill', topic: BILL }]);
    g.subscribe(c, [{ id: 'old-bill', topic: BILL }], { from: 0 });
    const [bill] = await append(input('acme', BILL));
    await waitFor(
      () => t.received.some((m) => m.position === bill && m.subscriptions.includes('bill')),
      'the live bill',
    );
    t.queued = 0;
    await waitFor(
      () => t.controls.filter((m) => m.type === 'caught-up').length === 2,
      'both replays',
    );
    const [inc] = await append(input('acme', INC));
    await waitFor(() => t.received.some((m) => m.position === inc), 'the live incident');

    const withIds = t.received.filter((m) => m.id !== undefined);
    // Every id is the message's position, ids only go up, and all "inc" messages carry one.
    for (const m of withIds) expect(m.id).toBe(m.position);
    expect(withIds.map((m) => m.id)).toEqual([...withIds.map((m) => m.id!)].sort((x, y) => x - y));
    expect(
      t.received.filter((m) => m.subscriptions.includes('inc')).every((m) => m.id !== undefined),
    ).toBe(true);
    // The live "bill" message arrived during the connect-time replay: no id.
    expect(
      t.received.find((m) => m.position === bill && m.subscriptions.includes('bill'))!.id,
    ).toBeUndefined();
  });

  it('stops a replay whose subscriptions were all removed', async () => {
    const g = gateway({ replayPageSize: 2, maxQueueBytes: 10_000 });
    for (let i = 0; i < 10; i++) await append(input('acme', INC));
    const t = new FakeTransport();
    t.queued = 3_000;
    const c = g.open(principal('acme'), t);
    g.subscribe(c, [{ id: 'inc', topic: INC }], { from: 0 });
    await waitFor(() => t.received.length === 2, 'the first page');
    g.unsubscribe(c, 'inc');
    t.queued = 0;
    await waitFor(() => c.jobs.size === 0, 'the replay to end');
    expect(t.received).toHaveLength(2);
    expect(t.controls.some((m) => m.type === 'caught-up')).toBe(false);
  });

  it('stops counting back for `last` once the client has gone', async () => {
    // A filter that never matches makes `last` read the tenant's whole log; it went on
    // reading after the connection closed (repeatable: connect, subscribe, leave).
    for (let i = 0; i < 10; i++)
      await append(...Array.from({ length: 20 }, () => input('acme', BILL)));
    let reads = 0;
    let release!: () => void;
    const firstRead = new Promise<void>((resolve) => (release = resolve));
    const counting = Object.create(log) as EventLog;
    counting.read = async (query) => {
      if (++reads === 1) await firstRead;
      return log.read(query);
    };
    const g = gateway({}, counting);
    const t = new FakeTransport();
    const c = g.open(principal('acme'), t);
    g.subscribe(c, [{ id: 'never', topic: '>', filter: { data: { never: [true] } } }], {
      last: 5,
    });
    await waitFor(() => reads === 1, 'the first read');
    t.end(CloseReason.clientClosed, 'the client went away');
    release();
    await waitFor(() => c.jobs.size === 0, 'the count to end');
    expect(reads).toBe(1);
  });
});

describe('limits and slow readers', () => {
  it('closes a connection whose queue would pass the limit, with the reason, and frees its subscriptions', async () => {
    const g = gateway({ maxQueueBytes: 8 * 1024 });
    const t = new FakeTransport();
    const c = g.open(principal('acme'), t);
    g.subscribe(c, [{ id: 'inc', topic: '>' }]);
    t.queued = 8 * 1024 - 100; // the peer stopped reading
    await append(input('acme', INC, { pad: 'x'.repeat(500) }));
    await waitFor(() => t.ended, 'the close');
    expect(t.ended!.reason).toBe(CloseReason.slowConsumer);
    expect(t.ended!.detail).toMatch(/8192 bytes/);
    expect(t.received).toHaveLength(0);
    expect(g.stats.dropped.get('slow-consumer')).toBe(1);
    expect(g.stats.disconnects.get('slow-consumer')).toBe(1);
    expect(g.connectionCount).toBe(0);
    expect(g.stats.subscriptions).toBe(0);
  });

  it('judging the queue outside any cork leaves the transport uncorked, so the reason is not held back', async () => {
    const g = gateway();
    const [position] = await append(input('acme', INC));
    const {
      entries: [entry],
    } = await log.read({ tenant: 'acme', after: position! - 1, limit: 1 });
    const t = new FakeTransport();
    const c = g.open(principal('acme'), t);
    t.queued = LIMITS.maxQueueBytes; // a backlog the peer has not taken, and no cork held
    const job = { primary: false } as ReplayJob; // only `primary` is read
    expect(c.sendReplayed(new EncodedEvent(entry!), ['inc'], job)).toBe(false);
    expect(t.ended?.reason).toBe(CloseReason.slowConsumer);
    // A cork left behind would hold the WebSocket close frame until the end grace.
    expect(t.corks).toBe(0);
  });

  it('always lets an idle connection take one message, however large', async () => {
    const g = gateway({ maxQueueBytes: 4096 });
    const t = new FakeTransport();
    g.subscribe(g.open(principal('acme'), t), [{ id: 'inc', topic: '>' }]);
    await append(input('acme', INC, { pad: 'x'.repeat(10_000) }));
    await waitFor(() => t.received.length === 1, 'the large event');
    expect(t.ended).toBeUndefined();
  });

  it('limits connections and subscriptions per tenant, and per connection', () => {
    const g = gateway({
      maxConnectionsPerTenant: 2,
      maxSubscriptionsPerTenant: 3,
      maxSubscriptionsPerConnection: 2,
    });
    const c1 = g.open(principal('acme'), new FakeTransport());
    const c2 = g.open(principal('acme'), new FakeTransport());
    expect(() => g.open(principal('acme'), new FakeTransport())).toThrow(/2 push connections/);
    expect(() => g.open(principal('globex'), new FakeTransport())).not.toThrow();

    g.subscribe(c1, [
      { id: 'a', topic: 'a.>' },
      { id: 'b', topic: 'b.>' },
    ]);
    expect(() => g.subscribe(c1, [{ id: 'c', topic: 'c.>' }])).toThrow(/at most 2 subscriptions/);
    g.subscribe(c2, [{ id: 'c', topic: 'c.>' }]);
    const error = (() => {
      try {
        g.subscribe(c2, [{ id: 'd', topic: 'd.>' }]);
      } catch (e) {
        return e as PushError;
      }
    })();
    expect(error?.code).toBe('limit');
    expect(() => g.subscribe(c2, [{ id: 'c', topic: 'x.>' }])).toThrow(/already exists/);

    c1.close(CloseReason.clientClosed, 'bye');
    expect(() => g.open(principal('acme'), new FakeTransport())).not.toThrow();
    expect(() => g.subscribe(c2, [{ id: 'd', topic: 'd.>' }])).not.toThrow();
  });

  it('refuses subscriptions from a principal without events:read, and refreshes only to the same subject', () => {
    const g = gateway();
    expect(() => g.precheck(principal('acme', 'u1', ['events:publish']))).toThrow(/events:read/);
    const c = g.open(principal('acme'), new FakeTransport());
    expect(() => g.refresh(c, principal('acme', 'someone-else'))).toThrow(
      /same tenant and subject/,
    );
    expect(() => g.refresh(c, principal('globex'))).toThrow(/same tenant and subject/);
    expect(() => g.refresh(c, principal('acme', 'u1', ['events:publish']))).toThrow(/events:read/);
    expect(() => g.find(c.id, principal('globex'), 'ws')).toThrow(/no open push connection/);
    expect(() => g.find(c.id, principal('acme', 'u2'), 'ws')).toThrow(/no open push connection/);
    expect(() => g.find(c.id, principal('acme'), 'sse')).toThrow(/no open push connection/);
    expect(g.find(c.id, principal('acme'), 'ws')).toBe(c);
  });
});

describe('credentials and shutdown', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('warns before the token expires, closes when it does, and a refresh moves the deadline', () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    });
    const g = gateway();
    const expiring = (seconds: number) => ({
      ...principal('acme'),
      expiresAt: Math.floor(Date.now() / 1000) + seconds,
    });
    const t1 = new FakeTransport();
    const t2 = new FakeTransport();
    g.open(expiring(600), t1);
    const c2 = g.open(expiring(600), t2);

    vi.advanceTimersByTime(540_500);
    expect(t1.controls.map((m) => m.type)).toEqual(['expiring']);
    g.refresh(c2, expiring(1200)); // t2's client refreshed in time
    vi.advanceTimersByTime(60_000);
    expect(t1.ended?.reason).toBe(CloseReason.tokenExpired);
    expect(t2.ended).toBeUndefined();
    vi.advanceTimersByTime(1200_000);
    expect(t2.ended?.reason).toBe(CloseReason.tokenExpired);
  });

  it('refuses to refresh a connection that closed while the new token was being verified', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const g = gateway();
    const t = new FakeTransport();
    const c = g.open(principal('acme'), t);
    t.end(CloseReason.clientClosed, 'the client went away');
    const timers = vi.getTimerCount();
    // It re-armed the expiry timer, which held the closed connection until the token expired.
    expect(() => g.refresh(c, principal('acme'))).toThrow(/closed/);
    expect(vi.getTimerCount()).toBe(timers);
  });

  it('stop() tells every client to reconnect, waits for them to go, and refuses new ones', async () => {
    const g = gateway();
    const t = new FakeTransport();
    g.open(principal('acme'), t);
    await g.stop();
    expect(t.ended?.reason).toBe(CloseReason.shutdown);
    expect(() => g.precheck(principal('acme'))).toThrow(/shutting down/);
  });
});
