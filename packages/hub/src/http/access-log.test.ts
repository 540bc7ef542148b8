import { afterEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../testing/test-hub.ts';

/** A hub at `logLevel` whose log lines are collected, parsed. */
async function hubLoggingAt(logLevel: string) {
  const lines: Record<string, unknown>[] = [];
  const hub = await startTestHub(
    { logLevel },
    { logStream: { write: (line) => void lines.push(JSON.parse(line)) } },
  );
  return { hub, requestLines: () => lines.filter((l) => 'responseTime' in l) };
}

describe('access log', () => {
  let t: TestHub | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('writes one line per request, when it is done: method, URL, status, time, request id', async () => {
    const { hub, requestLines } = await hubLoggingAt('info');
    t = hub;
    await t.hub.server.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'r-1' },
    });
    const missing = await t.hub.server.inject({ method: 'GET', url: '/v1/nowhere' });
    expect(missing.statusCode).toBe(404);

    const [ok, notFound, ...rest] = requestLines();
    expect(rest).toEqual([]);
    expect(ok).toMatchObject({
      level: 30,
      msg: 'request completed',
      reqId: 'r-1',
      req: { method: 'GET', url: '/healthz' },
      res: { statusCode: 200 },
    });
    expect(ok!['responseTime']).toBeTypeOf('number');
    expect(notFound).toMatchObject({ req: { url: '/v1/nowhere' }, res: { statusCode: 404 } });
    expect(requestLines().some((l) => l['msg'] === 'incoming request')).toBe(false);
  });

  it("names the caller's tenant once the request is authenticated", async () => {
    const { hub, requestLines } = await hubLoggingAt('info');
    t = hub;
    const headers = await t.auth('acme', ['events:read']);
    await t.hub.server.inject({ method: 'GET', url: '/v1/events', headers });
    await t.hub.server.inject({ method: 'GET', url: '/v1/events' });
    const [authenticated, anonymous] = requestLines();
    expect(authenticated).toMatchObject({ tenant: 'acme', res: { statusCode: 200 } });
    expect(anonymous).toMatchObject({ res: { statusCode: 401 } });
    expect(anonymous).not.toHaveProperty('tenant');
  });

  it('keeps credentials out of the line: no authorization header, no stream ticket', async () => {
    const { hub, requestLines } = await hubLoggingAt('info');
    t = hub;
    const headers = await t.auth('acme', ['events:read']);
    await t.hub.server.inject({ method: 'GET', url: '/v1/stream?ticket=SECRET-T', headers });
    const text = JSON.stringify(requestLines());
    expect(text).toContain('ticket=[redacted]');
    expect(text).not.toContain('SECRET-T');
    expect(text).not.toContain(headers.authorization.slice(7));
  });

  it('writes nothing for a request that went well when the level is above info', async () => {
    const { hub, requestLines } = await hubLoggingAt('warn');
    t = hub;
    const response = await t.hub.server.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(requestLines()).toEqual([]);
  });
});
