/**
 * The leader's reconnect loop against a misbehaving hub, with the links faked: which
 * connections are opened, and when (fake timers, backoff without jitter).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShellError } from '../shell-error.ts';
import { HubSession, STABLE_CONNECTION_MS, type Wanted } from './hub-session.ts';
import type { HubSpec, LinkOptions } from './wire.ts';

/** Every link opened, with what it started with; `add` asks `hubAnswers`. */
const links = vi.hoisted(() => [] as LinkOptions[]);
const hubAnswers = vi.hoisted(() => ({
  add: (_spec: HubSpec): Promise<void> => Promise.resolve(),
}));
vi.mock('./sse-link.ts', () => ({
  openSseLink: (options: LinkOptions) => {
    links.push(options);
    return Promise.resolve({
      add: (spec: HubSpec) => hubAnswers.add(spec),
      remove: async () => {},
      close() {},
    });
  },
}));

const session = (onState: HubSessionState = () => {}) =>
  new HubSession({
    hub: 'https://hub.example',
    getToken: () => 'token',
    transport: 'sse',
    backoff: () => ({ initialMs: 100, maxMs: 60_000, multiplier: 2, jitter: false }),
    resumeFrom: () => undefined,
    onMessage() {},
    onState,
    onOpen() {},
    onCaughtUp() {},
  });

type HubSessionState = (state: 'connecting' | 'open' | 'closed') => void;

/** The newest link is accepted by the hub, then dropped after `openMs`. */
async function acceptThenDrop(openMs = 0): Promise<void> {
  const { events } = links[links.length - 1]!;
  events.open(1);
  await vi.advanceTimersByTimeAsync(openMs);
  events.closed('error');
}

beforeEach(() => {
  vi.useFakeTimers();
  links.length = 0;
  hubAnswers.add = () => Promise.resolve();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the reconnect backoff', () => {
  it('keeps growing when the hub accepts each stream and drops it at once', async () => {
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(links).toHaveLength(1);

    await acceptThenDrop();
    await vi.advanceTimersByTimeAsync(100);
    expect(links).toHaveLength(2);

    await acceptThenDrop();
    await vi.advanceTimersByTimeAsync(199);
    expect(links).toHaveLength(2); // not 100 ms again: the open did not prove anything
    await vi.advanceTimersByTimeAsync(1);
    expect(links).toHaveLength(3);

    await acceptThenDrop();
    await vi.advanceTimersByTimeAsync(399);
    expect(links).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(links).toHaveLength(4);
    s.close();
  });

  it('starts from the first step again after a connection that stayed open', async () => {
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    await acceptThenDrop();
    await vi.advanceTimersByTimeAsync(100);
    await acceptThenDrop();
    await vi.advanceTimersByTimeAsync(200);
    expect(links).toHaveLength(3);

    await acceptThenDrop(STABLE_CONNECTION_MS); // e.g. the hub restarted after a while
    await vi.advanceTimersByTimeAsync(100);
    expect(links).toHaveLength(4);
    s.close();
  });
});

describe('a subscription the hub refuses', () => {
  const wanted = (id: string, filter?: unknown): [string, Wanted] => [
    id,
    { spec: { id, topic: 'incident.>', ...(filter !== undefined && { filter }) } },
  ];

  it("stays off later connections, so it cannot fail the others' stream", async () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    links[0]!.events.open(1);
    // A micro-frontend's filter the hub rejects (values must be arrays): 400.
    hubAnswers.add = (spec) =>
      spec.filter === undefined
        ? Promise.resolve()
        : Promise.reject(new ShellError('http', 'the hub answered 400', 400));
    s.setDesired(new Map([wanted('incident.>'), wanted('h:bad', { data: { severity: 'high' } })]));
    await vi.advanceTimersByTimeAsync(0);
    expect(String(error.mock.calls[0]![0])).toMatch(/the hub refused the subscription/);

    links[0]!.events.closed('error'); // a network drop: the next stream resumes the rest
    await vi.advanceTimersByTimeAsync(100);
    expect(links[1]!.initial.map((w) => w.spec.id)).toEqual(['incident.>']);

    // Subscribed anew (after every tab dropped it) it is asked again.
    s.setDesired(new Map([wanted('incident.>')]));
    s.setDesired(
      new Map([wanted('incident.>'), wanted('h:bad', { data: { severity: ['high'] } })]),
    );
    links[1]!.events.closed('error');
    await vi.advanceTimersByTimeAsync(200);
    expect(links[2]!.initial.map((w) => w.spec.id)).toEqual(['incident.>', 'h:bad']);
    s.close();
    error.mockRestore();
  });

  it('a transient failure (429) does not count as a refusal', async () => {
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    links[0]!.events.open(1);
    hubAnswers.add = () => Promise.reject(new ShellError('http', 'the hub answered 429', 429));
    s.setDesired(new Map([wanted('incident.>')]));
    await vi.advanceTimersByTimeAsync(0);
    links[0]!.events.closed('error');
    await vi.advanceTimersByTimeAsync(100);
    expect(links[1]!.initial.map((w) => w.spec.id)).toEqual(['incident.>']);
    s.close();
  });
});
