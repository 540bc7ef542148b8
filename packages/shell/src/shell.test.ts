/** createShell against a stubbed hub (fetch): what it leaves behind when it fails, its timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createShell } from './shell.ts';

let requests: string[];
const settings: Record<string, unknown> = {};

beforeEach(() => {
  requests = [];
  for (const key of Object.keys(settings)) delete settings[key];
  vi.stubGlobal('fetch', async (url: URL | string) => {
    const { pathname } = new URL(url);
    requests.push(pathname);
    if (pathname === '/v1/dictionary')
      return Response.json({ tenant: 'acme', domains: [], settings });
    return new Response(null, { status: 503 }); // stream tickets: the link keeps failing
  });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('createShell', () => {
  it('that refuses its options leaves no hub connection behind', async () => {
    vi.useFakeTimers();
    await expect(
      createShell({
        hub: 'https://hub.example',
        getToken: () => 'token',
        crossTab: false,
        bridgeOrigins: ['https://widgets.example/with/a/path'],
      }),
    ).rejects.toMatchObject({ code: 'invalid' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(requests).toEqual(['/v1/dictionary']); // no stream ticket, now or later
  });

  it('revalidates the dictionary at most once a day whatever refreshSeconds the hub sends', async () => {
    vi.useFakeTimers();
    settings.refreshSeconds = 10_000_000; // ~116 days: past the timer's limit
    const shell = await createShell({
      hub: 'https://hub.example',
      getToken: () => 'token',
      crossTab: false,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(requests.filter((p) => p === '/v1/dictionary')).toHaveLength(1);
    await shell.close();
  });
});

describe('subscribe', () => {
  it('refuses a filter that cannot be sent as JSON with ShellError invalid', async () => {
    vi.useFakeTimers();
    const shell = await createShell({
      hub: 'https://hub.example',
      getToken: () => 'token',
      crossTab: false,
    });
    const cyclic: Record<string, unknown> = { data: { severity: ['high'] } };
    cyclic.self = cyclic;
    for (const filter of [cyclic, { data: { amount: [10n] } }, 'severity=high'])
      expect(() => shell.subscribe('incidents', 'incident.>', () => {}, { filter })).toThrow(
        expect.objectContaining({ name: 'ShellError', code: 'invalid' }),
      );
    expect(() =>
      shell.subscribe('incidents', 'incident.>', () => {}, {
        filter: { data: { severity: ['high'] } },
      }),
    ).not.toThrow();
    await shell.close();
  });
});
