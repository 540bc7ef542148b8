/**
 * The leader's reconnect loop against a misbehaving hub, with the links faked: which
 * connections are opened, and when (fake timers, backoff without jitter).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ShellError } from '../shell-error.ts';
import {
  HANDSHAKE_TIMEOUT_MS,
  HubSession,
  MAX_RETRY_AFTER_MS,
  STABLE_CONNECTION_MS,
  type Wanted,
} from './hub-session.ts';
import { mintTicket } from './stream-ticket.ts';
import type { HubSpec, LinkOptions } from './wire.ts';

/**
 * Every link opened, with what it started with, and the indexes of those closed by the
 * session; opening asks `hubAnswers.open` (e.g. for a ticket), `add` asks `hubAnswers.add`.
 */
const links = vi.hoisted(() => [] as LinkOptions[]);
const closedLinks = vi.hoisted(() => [] as number[]);
const hubAnswers = vi.hoisted(() => ({
  open: (_options: LinkOptions): Promise<void> => Promise.resolve(),
  add: (_spec: HubSpec): Promise<void> => Promise.resolve(),
}));
vi.mock('./sse-link.ts', () => ({
  openSseLink: async (options: LinkOptions) => {
    await hubAnswers.open(options);
    const index = links.push(options) - 1;
    return {
      add: (spec: HubSpec) => hubAnswers.add(spec),
      remove: async () => {},
      close: () => void closedLinks.push(index),
    };
  },
}));

/** The newest position the tab has seen (the push client's, faked). */
let newest: number | undefined;

const session = (onState: HubSessionState = () => {}) =>
  new HubSession({
    hub: 'https://hub.example',
    getToken: () => 'token',
    transport: 'sse',
    backoff: () => ({ initialMs: 100, maxMs: 60_000, multiplier: 2, jitter: false }),
    resumeFrom: () => newest,
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
  closedLinks.length = 0;
  newest = undefined;
  hubAnswers.open = () => Promise.resolve();
  hubAnswers.add = () => Promise.resolve();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
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

describe('a subscription the hub has not accepted yet', () => {
  const wanted = (id: string, filter?: unknown): [string, Wanted] => [
    id,
    { spec: { id, topic: 'incident.>', ...(filter !== undefined && { filter }) } },
  ];
  const proven = (link: LinkOptions) =>
    link.initial.map((w) => [w.spec.id, w.proven === true] as const);

  it('joins the next connection as unproven (not in the SSE URL) until the hub accepts it', async () => {
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    links[0]!.events.open(1);
    s.setDesired(new Map([wanted('incident.>')])); // added on the open link: accepted
    await vi.advanceTimersByTimeAsync(0);

    links[0]!.events.closed('error');
    // A micro-frontend subscribes while the connection is down, with a filter the hub
    // would refuse: it must not go in the URL that resumes everyone else.
    s.setDesired(new Map([wanted('incident.>'), wanted('h:bad', { data: { severity: 'high' } })]));
    await vi.advanceTimersByTimeAsync(100);
    expect(proven(links[1]!)).toEqual([
      ['incident.>', true],
      ['h:bad', false],
    ]);

    // Accepted after ready on that connection (a valid one would be): in the URL from then on.
    links[1]!.events.open(1);
    links[1]!.events.accepted('h:bad');
    links[1]!.events.closed('error');
    await vi.advanceTimersByTimeAsync(200);
    expect(proven(links[2]!)).toEqual([
      ['incident.>', true],
      ['h:bad', true],
    ]);
    s.close();
  });

  it('owes what came after the position it resumed from until its caught-up', async () => {
    newest = 10; // e.g. the tab took over from a leader that had seen position 10
    const s = session();
    s.setDesired(new Map([wanted('incident.>'), wanted('audit.>')]));
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(links[0]!.from).toBe(10);
    links[0]!.events.open(10); // both join resumed after 10, each its own replay on the hub

    // incident.> caught up and went live first: the tab has seen position 50 …
    links[0]!.events.caughtUp(['incident.>']);
    newest = 50;
    // … while audit.>'s replay was still after 10 when the connection dropped.
    links[0]!.events.closed('error');
    await vi.advanceTimersByTimeAsync(100);
    expect(links[1]!.from).toBe(10);
    links[1]!.events.closed('error'); // and that one failed before the hub said ready
    await vi.advanceTimersByTimeAsync(200);
    expect(links[2]!.from).toBe(10);

    links[2]!.events.open(10);
    links[2]!.events.caughtUp(['incident.>', 'audit.>']);
    links[2]!.events.closed('error');
    await vi.advanceTimersByTimeAsync(400);
    expect(links[3]!.from).toBe(50);
    s.close();
  });
});

describe('a hub that never says ready', () => {
  it('is given up after the handshake timeout and asked again with backoff', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const states: string[] = [];
    const s = session((state) => states.push(state));
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(links).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(HANDSHAKE_TIMEOUT_MS);
    expect(closedLinks).toEqual([0]);
    expect(String(warn.mock.calls[0]![0])).toMatch(/did not accept the SSE connection/);
    await vi.advanceTimersByTimeAsync(100);
    expect(links).toHaveLength(2);

    // One that answers stays.
    links[1]!.events.open(1);
    await vi.advanceTimersByTimeAsync(HANDSHAKE_TIMEOUT_MS * 2);
    expect(links).toHaveLength(2);
    expect(closedLinks).toEqual([0]);
    expect(states).toEqual(['connecting', 'connecting', 'open']);
    s.close();
    warn.mockRestore();
  });

  it('also when the ticket request never answers; a late answer is not used', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    let answer!: () => void;
    hubAnswers.open = () => new Promise<void>((resolve) => (answer = resolve));
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(HANDSHAKE_TIMEOUT_MS);
    hubAnswers.open = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(100);
    expect(links).toHaveLength(1); // the second attempt
    answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(links).toHaveLength(2);
    expect(closedLinks).toEqual([1]); // the first attempt's late link, closed at once
    s.close();
    vi.mocked(console.warn).mockRestore();
  });
});

describe('a ticket request that never answers', () => {
  it('is cancelled when the attempt is given up, and when the session closes', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const signals: AbortSignal[] = [];
    hubAnswers.open = (options) => {
      signals.push(options.signal!);
      return new Promise<void>(() => {});
    };
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
    await vi.advanceTimersByTimeAsync(HANDSHAKE_TIMEOUT_MS + 100);
    expect(signals.map((signal) => signal.aborted)).toEqual([true, false]);
    s.close();
    expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
    vi.mocked(console.warn).mockRestore();
  });

  it('carries the signal to its fetch', async () => {
    const seen: Array<AbortSignal | null | undefined> = [];
    vi.stubGlobal('fetch', async (_url: URL, init: RequestInit) => {
      seen.push(init.signal);
      return Response.json({ ticket: 't', position: 1 });
    });
    const abort = new AbortController();
    await mintTicket('https://hub.example', () => 'token', abort.signal);
    expect(seen).toEqual([abort.signal]);
  });
});

describe('a stream ticket refused with Retry-After', () => {
  const refuseTickets = (retryAfter: string) => {
    vi.stubGlobal(
      'fetch',
      async () =>
        new Response('{"title":"too many"}', {
          status: 429,
          headers: { 'retry-after': retryAfter },
        }),
    );
    hubAnswers.open = async (options) => void (await mintTicket(options.hub, options.getToken));
  };

  it('waits as long as the hub asks before the next ticket', async () => {
    refuseTickets('30');
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    hubAnswers.open = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(links).toHaveLength(0); // not after the backoff's 100 ms
    await vi.advanceTimersByTimeAsync(1);
    expect(links).toHaveLength(1);
    s.close();
  });

  it('waits at most MAX_RETRY_AFTER_MS', async () => {
    refuseTickets(new Date(Date.now() + 7 * 86_400_000).toUTCString()); // a week
    const s = session();
    s.start();
    await vi.advanceTimersByTimeAsync(0);
    hubAnswers.open = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(MAX_RETRY_AFTER_MS);
    expect(links).toHaveLength(1);
    s.close();
  });
});
