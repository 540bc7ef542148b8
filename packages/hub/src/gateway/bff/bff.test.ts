/** BFF compositions against real upstream servers: parallel parts, partial failure, shaping. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scope } from '../../auth/principal.ts';
import { startTestHub, type TestHub } from '../../testing/test-hub.ts';
import { waitFor } from '../../testing/wait-for.ts';

let t: TestHub;
const servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/**
 * Overlap proof: a request for a user waits until the orders request for the same user has
 * arrived too (and the other way round). Sequential calls would never meet; after 3 s the
 * barrier gives up and marks the run as not overlapped.
 */
const arrivals = new Map<string, { count: number; release: () => void; done: Promise<void> }>();
const overlapped = new Map<string, boolean>();
function meet(key: string): Promise<void> {
  let slot = arrivals.get(key);
  if (!slot) {
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    slot = { count: 0, release, done };
    arrivals.set(key, slot);
    setTimeout(() => {
      if (!overlapped.has(key)) overlapped.set(key, false);
      release();
    }, 3000).unref();
  }
  slot.count += 1;
  if (slot.count === 2) {
    overlapped.set(key, true);
    slot.release();
  }
  return slot.done;
}

const PORTAL = 'https://portal.example.com';

/** What the `echo` upstream saw: whether the endless answer's call was closed. */
const echoSeen = { endlessClosed: false };

beforeAll(async () => {
  t = await startTestHub({
    gateway: {
      upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
      defaults: { retries: 0 },
      cors: { origins: [PORTAL] },
    },
  });
  const people = await serve(async (req, res) => {
    const id = req.url!.split('/').pop()!;
    if (id === 'ghost') return json(res, 404, { error: 'no such user' });
    if (id === 'abyss') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    }
    await meet(id);
    json(res, 200, { id, name: `User ${id}`, email: `${id}@example.com`, internal: 'x' });
  });
  const orders = await serve(async (req, res) => {
    const user = new URL(req.url!, 'http://x').searchParams.get('user')!;
    if (user !== 'dev-user') await meet(user); // the bills composition calls alone
    if (user === 'unlucky') return json(res, 500, { error: 'orders db down' });
    json(res, 200, {
      items: [
        { id: 'o1', total: 10 },
        { id: 'o2', total: 32 },
      ],
    });
  });
  // Answers its URL; `/endless` 24 MiB of JSON (3 x a part's cap), `/broken` half an answer.
  const echo = await serve((req, res) => {
    if (req.url === '/endless') {
      res.on('close', () => (echoSeen.endlessClosed = true));
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = `"${'a'.repeat(64 * 1024)}",`;
      let left = 384;
      const more = () => {
        while (!res.destroyed && left > 0) if (left-- && !res.write(chunk)) return;
        if (left === 0) res.end('1]');
      };
      res.write('[');
      res.on('drain', more);
      return more();
    }
    if (req.url === '/broken') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      return res.write('{"half":', () => res.destroy());
    }
    json(res, 200, { url: req.url });
  });
  const admin = await t.auth('acme', ['dictionary:write']);
  for (const [name, upstream, policy] of [
    ['people', people, {}],
    ['orders', orders, {}],
    ['billing', orders, { scopes: ['events:read'] }],
    ['echo', echo, {}],
  ] as const) {
    const res = await t.hub.server.inject({
      method: 'PUT',
      url: `/v1/dictionary/apis/${name}`,
      headers: { ...admin, 'content-type': 'application/json' },
      payload: JSON.stringify({ domain: 'd', versions: [{ version: 'v1', upstream, policy }] }),
    });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await t.close();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function putComposition(name: string, body: unknown, tenant = 'acme') {
  return t.hub.server.inject({
    method: 'PUT',
    url: `/v1/bff/compositions/${name}`,
    headers: {
      ...(await t.auth(tenant, ['dictionary:write'])),
      'content-type': 'application/json',
    },
    payload: JSON.stringify(body),
  });
}

async function run(
  url: string,
  options: { tenant?: string; scopes?: Scope[]; headers?: Record<string, string> } = {},
) {
  return t.hub.server.inject({
    method: 'GET',
    url,
    headers: {
      ...(await t.auth(options.tenant ?? 'acme', options.scopes ?? [])),
      ...options.headers,
    },
  });
}

const profile = {
  parts: {
    user: { api: 'people', version: 'v1', path: '/users/{query.userId}' },
    orders: { api: 'orders', version: 'v1', path: '/orders?user={query.userId}', required: false },
  },
  shape:
    '{ "name": user.name, "contact": { "email": user.email }, "orderIds": orders.items.id, "spent": $sum(orders.items.total), "viewer": subject }',
};

describe('BFF compositions', () => {
  beforeAll(async () => {
    expect((await putComposition('profile', profile)).statusCode).toBe(201);
  });

  it('calls the parts in parallel and shapes one response', async () => {
    const res = await run('/bff/profile?userId=u1');
    expect(res.statusCode, res.body).toBe(200);
    expect(overlapped.get('u1')).toBe(true);
    expect(res.json()).toEqual({
      data: {
        name: 'User u1',
        contact: { email: 'u1@example.com' },
        orderIds: ['o1', 'o2'],
        spent: 42,
        viewer: 'dev-user',
      },
      parts: { user: { status: 'ok', httpStatus: 200 }, orders: { status: 'ok', httpStatus: 200 } },
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('says which optional part failed, and fails as a whole when a required one does', async () => {
    const partial = await run('/bff/profile?userId=unlucky');
    expect(partial.statusCode).toBe(200);
    const body = partial.json();
    expect(body.data).toEqual({
      name: 'User unlucky',
      contact: { email: 'unlucky@example.com' },
      viewer: 'dev-user',
    });
    expect(body.parts.orders).toMatchObject({
      status: 'failed',
      httpStatus: 500,
      error: { type: 'urn:portico:problem:upstream' },
    });

    const failed = await run('/bff/profile?userId=ghost');
    expect(failed.statusCode).toBe(404);
    expect(failed.headers['content-type']).toContain('application/problem+json');
    expect(failed.json()).toMatchObject({
      title: 'A required part failed',
      parts: { user: { status: 'failed', httpStatus: 404 } },
    });
    expect(failed.json().detail).toContain('"user"');
  });

  it('enforces each part API scopes with the caller token', async () => {
    await putComposition('bills', {
      parts: { bills: { api: 'billing', version: 'v1', path: '/orders?user={subject}' } },
    });
    const denied = await run('/bff/bills');
    expect(denied.statusCode).toBe(403);
    const allowed = await run('/bff/bills', { scopes: ['events:read'], headers: {} });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json().data.bills.items).toHaveLength(2);
  }, 10_000);

  it('refuses bad compositions and bad requests with problems', async () => {
    const badShape = await putComposition('bad', { parts: profile.parts, shape: '{ "a": ' });
    expect(badShape.statusCode).toBe(400);
    expect(badShape.json().errors[0].pointer).toBe('/shape');
    const badPlaceholder = await putComposition('bad', {
      parts: { x: { api: 'people', version: 'v1', path: '/u/{env.HOME}' } },
    });
    expect(badPlaceholder.statusCode).toBe(400);
    expect((await putComposition('bad', { parts: {} })).statusCode).toBe(400);
    const missing = await run('/bff/profile');
    expect(missing.statusCode).toBe(400);
    expect(missing.json().detail).toContain('query.userId');
    expect((await run('/bff/nothing')).statusCode).toBe(404);
    expect(
      (await t.hub.server.inject({ method: 'GET', url: '/bff/profile?userId=u1' })).statusCode,
    ).toBe(401);
  });

  it('stops a shape that never ends instead of stalling the hub', async () => {
    for (const [name, shape, detail] of [
      // A tail call: JSONata loops without growing its stack, so the deadline stops it.
      [
        'endless',
        '($f := function() { $f() }; $f())',
        /Evaluation timeout after 1000 milliseconds/,
      ],
      ['bottomless', '($f := function($n) { 1 + $f($n) }; $f(1))', /Stack overflow/],
    ] as const) {
      expect((await putComposition(name, { parts: profile.parts, shape })).statusCode).toBe(201);
      const res = await run(`/bff/${name}?userId=e1`);
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({
        title: 'Composition failed',
        parts: { user: { status: 'ok' } },
      });
      expect(res.json().detail).toMatch(detail);
    }
    // The hub still answers.
    expect((await run('/bff/profile?userId=e2')).statusCode).toBe(200);
  }, 10_000);

  it('stops a shape that builds values too large to hold, and still runs real shapes', async () => {
    const doubled = (times: number) =>
      `($s := $pad("", 1000000); ${'$s := $s & $s; '.repeat(times)}$s)`;
    const tenTimes = '[$s, $s, $s, $s, $s, $s, $s, $s, $s, $s]';
    // Sizes just over each limit: larger ones only add work, and on a loaded machine could
    // reach the 1 s evaluation timeout before the size limit (a flake seen at load 9).
    for (const [name, shape, detail] of [
      ['padded', '$pad("", 500000000)', '$pad to more than 8388608 characters'],
      // `&` joins lazily: thirty doublings cost nothing until something reads the string.
      ['doubled', doubled(30), 'a string of more than 8388608 characters'],
      ['split', '$split($pad("", 1100000), "")', 'an array of more than 1048576 items'],
      ['joined', `($s := $pad("", 1000000); $join(${tenTimes}))`, '$join of more than'],
      ['stringified', `($s := $pad("", 1000000); $string(${tenTimes}))`, '$string of more than'],
      ['referenced', `($s := $pad("", 3400000); ${tenTimes})`, 'result is larger than 33554432'],
      ['dated', '$fromMillis(0, "[Y0001,100000000]")', 'a string of more than'],
    ] as const) {
      expect((await putComposition(name, { parts: profile.parts, shape })).statusCode).toBe(201);
      const res = await run(`/bff/${name}?userId=s1`);
      expect(res.statusCode, name).toBe(500);
      expect(res.json()).toMatchObject({
        title: 'Composition failed',
        parts: { user: { status: 'ok' } },
      });
      expect(res.json().detail, name).toContain(detail);
    }
    // Within the limits the same built-ins work as ever.
    const fine = {
      parts: profile.parts,
      shape:
        '{ "padded": $pad(user.id, 5, "-"), "joined": $join(orders.items.id, ","), "json": $string(orders.items[0]), "doubled": (user.id & user.id) }',
    };
    expect((await putComposition('within', fine)).statusCode).toBe(201);
    const res = await run('/bff/within?userId=s2');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toEqual({
      padded: 's2---',
      joined: 'o1,o2',
      json: '{"id":"o1","total":10}',
      doubled: 's2s2',
    });
  }, 20_000);

  it('answers a shape whose regex backtracks catastrophically (V8 falls back to its linear engine)', async () => {
    // /(a+)+b/ on 27 a's held the event loop 15 s, doubling per character: 40 would be days.
    const shape = '$contains($pad("", 40, "a") & "!", /(a+)+b/)';
    expect((await putComposition('backtracking', { parts: profile.parts, shape })).statusCode).toBe(
      201,
    );
    const res = await run('/bff/backtracking?userId=r1');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toBe(false);
  });

  it('keeps a part too deeply nested to serialise as text', async () => {
    const abyss = { parts: { user: { api: 'people', version: 'v1', path: '/users/abyss' } } };
    expect((await putComposition('abyss', abyss)).statusCode).toBe(201);
    const res = await run('/bff/abyss');
    expect(res.statusCode).toBe(200);
    expect(res.json().data.user).toBe(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
  });

  it('keeps compositions per tenant', async () => {
    expect((await run('/bff/profile?userId=u1', { tenant: 'globex' })).statusCode).toBe(404);
    const list = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/bff/compositions',
      headers: await t.auth('globex', ['dictionary:write']),
    });
    expect(list.json().compositions).toEqual([]);
    const other = await t.hub.server.inject({
      method: 'GET',
      url: '/v1/bff/compositions?tenant=acme',
      headers: await t.auth('globex', ['dictionary:write']),
    });
    expect(other.statusCode).toBe(403);
  });

  it('is cacheable with an ETag when the composition says so', async () => {
    await putComposition('cached', { ...profile, cacheSeconds: 30 });
    const first = await run('/bff/cached?userId=c1');
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('private, max-age=30');
    const again = await run('/bff/cached?userId=c1', {
      headers: { 'if-none-match': first.headers.etag as string },
    });
    expect(again.statusCode).toBe(304);
  }, 10_000);

  it('answers CORS for a shell on an allowed origin, and refuses other origins', async () => {
    const preflight = (origin: string) =>
      t.hub.server.inject({
        method: 'OPTIONS',
        url: '/bff/profile?userId=u2',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(PORTAL);
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(String(allowed.headers['access-control-allow-headers'])).toContain('authorization');

    const refused = await preflight('https://evil.example');
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().detail).toContain('gateway.cors.origins');
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();

    const res = await run('/bff/profile?userId=u3', { headers: { origin: PORTAL } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(PORTAL);
    expect(String(res.headers.vary)).toContain('origin');
  });

  it('refuses "." and ".." as path values instead of letting them move the part', async () => {
    const dots = {
      parts: {
        item: { api: 'echo', version: 'v1', path: '/items/{query.id}/public?as={query.as}' },
      },
    };
    expect((await putComposition('dots', dots)).statusCode).toBe(201);
    for (const id of ['..', '.', '%2E%2E']) {
      const res = await run(`/bff/dots?id=${id}&as=x`);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().detail).toContain('{query.id}');
      expect(res.json().errors).toEqual([
        { pointer: '/id', detail: 'must not be "." or ".."', in: 'query' },
      ]);
    }
    // In the query string a dot is only a value; next to other characters, only a name.
    const fine = await run('/bff/dots?id=..a&as=..');
    expect(fine.statusCode, fine.body).toBe(200);
    expect(fine.json().data.item.url).toBe('/items/..a/public?as=..');
  });

  it('takes only the request own query values for placeholders', async () => {
    const inherited = {
      parts: { item: { api: 'echo', version: 'v1', path: '/items/{query.constructor}' } },
    };
    expect((await putComposition('inherited', inherited)).statusCode).toBe(201);
    const res = await run('/bff/inherited');
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().detail).toContain('{query.constructor}');
    expect((await run('/bff/inherited?constructor=c')).json().data.item.url).toBe('/items/c');
  });

  it('fails a part whose answer is too large, and aborts its upstream call', async () => {
    const oversized = {
      parts: {
        big: { api: 'echo', version: 'v1', path: '/endless', required: false },
        small: { api: 'echo', version: 'v1', path: '/small' },
      },
    };
    expect((await putComposition('oversized', oversized)).statusCode).toBe(201);
    const res = await run('/bff/oversized');
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.json()).toEqual({
      data: { query: {}, subject: 'dev-user', tenant: 'acme', big: null, small: { url: '/small' } },
      parts: {
        big: {
          status: 'failed',
          httpStatus: 502,
          error: {
            type: 'urn:portico:problem:upstream',
            title: 'Bad gateway',
            detail: 'answered more than 8388608 bytes',
          },
        },
        small: { status: 'ok', httpStatus: 200 },
      },
    });
    await waitFor(() => echoSeen.endlessClosed, 'the endless upstream call to be closed');
  });

  it('fails a part whose answer breaks off, not the whole request', async () => {
    const broken = { parts: { half: { api: 'echo', version: 'v1', path: '/broken' } } };
    expect((await putComposition('broken', broken)).statusCode).toBe(201);
    const res = await run('/bff/broken');
    expect(res.statusCode, res.body).toBe(502);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      title: 'A required part failed',
      parts: { half: { status: 'failed', httpStatus: 502 } },
    });
    expect(res.json().detail).toContain('broke off');
  });

  it('refuses part names the shape input already has', async () => {
    const res = await putComposition('reserved', {
      parts: { tenant: { api: 'echo', version: 'v1', path: '/t' } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatchObject({ pointer: '/parts/tenant' });
  });

  it('reports a shape giving a function as a failed composition', async () => {
    const fn = { parts: profile.parts, shape: 'function($x) { $x }' };
    expect((await putComposition('function', fn)).statusCode).toBe(201);
    const res = await run('/bff/function?userId=f1');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({
      title: 'Composition failed',
      parts: { user: { status: 'ok' } },
    });
    expect(res.json().detail).toContain('JSON cannot hold');
  });
});
