/** One tab's push client with its hub link faked (no cross-tab sharing). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PushClient, type ConnectionView } from './push-client.ts';
import type { LinkEvents } from './wire.ts';

const links = vi.hoisted(() => [] as Array<{ events: LinkEvents }>);
vi.mock('./sse-link.ts', () => ({
  openSseLink: (options: { events: LinkEvents }) => {
    links.push({ events: options.events });
    return Promise.resolve({ add: async () => {}, remove: async () => {}, close() {} });
  },
}));

/** Like a browser's event dispatch: a listener's exception is reported, not thrown back. */
function dispatch(fire: () => void): void {
  try {
    fire();
  } catch {
    // the browser would report it on the console
  }
}

let error: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  vi.useFakeTimers();
  links.length = 0;
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  vi.useRealTimers();
  error.mockRestore();
});

describe('connection listeners', () => {
  it('a throwing one neither stops the others nor the reconnect', async () => {
    const push = new PushClient({
      hub: 'https://hub.example',
      getToken: () => 'token',
      transport: 'sse',
      shareKey: undefined,
      backoff: () => ({ initialMs: 100, maxMs: 100, multiplier: 1, jitter: false }),
    });
    push.onConnectionChange(() => {
      throw new Error('a micro-frontend bug');
    });
    const states: ConnectionView['state'][] = [];
    push.onConnectionChange((c) => states.push(c.state));
    await vi.advanceTimersByTimeAsync(0);
    expect(links).toHaveLength(1);

    dispatch(() => links[0]!.events.open(1));
    dispatch(() => links[0]!.events.closed('error'));
    await vi.advanceTimersByTimeAsync(100);

    expect(links).toHaveLength(2); // the connection is opened again
    expect(states).toEqual(['connecting', 'open', 'connecting']);
    expect(String(error.mock.calls[0]![0])).toMatch(/a connection listener threw/);
    push.close();
  });
});
