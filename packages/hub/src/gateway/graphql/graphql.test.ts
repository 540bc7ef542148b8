/**
 * `/graphql` over two federation subgraphs started in the test (plain graphql-js servers
 * implementing the subgraph protocol: `_service { sdl }` and `_entities`). One query spans
 * both; the caller's verified identity reaches each subgraph.
 */
import { once, EventEmitter } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, getIntrospectionQuery, graphql, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../testing/test-hub.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { MAX_ANSWER_BYTES } from './graphql-endpoint.ts';

const FEDERATION =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';
const SERVICE = 'scalar _Any\ntype _Service { sdl: String }';

type Context = { headers: IncomingHttpHeaders };
type Seen = { headers: IncomingHttpHeaders; query: string };

/** A federation subgraph: the SDL it announces, the schema it executes, its root resolvers. */
async function startSubgraph(
  sdl: string,
  executable: string,
  root: (ctx: Context) => Record<string, unknown>,
) {
  const schema: GraphQLSchema = buildSchema(executable);
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const { query, variables } = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      seen.push({ headers: req.headers, query });
      const context = { headers: req.headers };
      const result = await graphql({
        schema,
        source: query,
        variableValues: variables,
        contextValue: context,
        rootValue: { _service: { sdl }, ...root(context) },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    server,
    seen,
  };
}

/**
 * A subgraph that announces `sdl` and answers every other query with `answer` (undefined:
 * never; `held` emits `'request'` with each response it holds open), on a hub of its own
 * (`timeoutMs` for its calls). `use` runs with the hub.
 */
async function withBareSubgraph(
  sdl: string,
  answer: unknown,
  timeoutMs: number,
  use: (hub: TestHub, port: number, held: EventEmitter, server: Server) => Promise<void>,
  /** More of the hub's `gateway.graphql` settings. */
  settings: Record<string, unknown> = {},
) {
  const held = new EventEmitter();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isSdl = Buffer.concat(chunks).toString().includes('_service');
      if (!isSdl && answer === undefined) return void held.emit('request', res, req);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(isSdl ? { data: { _service: { sdl } } } : answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const hub = await startTestHub({
    gateway: {
      upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
      graphql: {
        subgraphs: [{ name: 'bare', url: `http://127.0.0.1:${port}/graphql` }],
        timeoutMs,
        ...settings,
      },
    },
  });
  try {
    await use(hub, port, held, server);
  } finally {
    await hub.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

let t: TestHub;
let users: Awaited<ReturnType<typeof startSubgraph>>;
let orders: Awaited<ReturnType<typeof startSubgraph>>;

beforeAll(async () => {
  users = await startSubgraph(
    `${FEDERATION}\ntype Query { me: User }\ntype User @key(fields: "id") { id: ID! name: String! tenant: String! }`,
    `${SERVICE}\nunion _Entity = User\ntype Query { me: User, _service: _Service!, _entities(representations: [_Any!]!): [_Entity]! }\ntype User { id: ID! name: String! tenant: String! }`,
    (ctx) => ({
      me: () => ({
        id: String(ctx.headers['x-portico-subject']),
        name: `Name of ${ctx.headers['x-portico-subject']}`,
        tenant: String(ctx.headers['x-portico-tenant']),
      }),
      _entities: ({ representations }: { representations: { id: string }[] }) =>
        representations.map((r) => ({
          __typename: 'User',
          id: r.id,
          name: `Name of ${r.id}`,
          tenant: '',
        })),
    }),
  );
  orders = await startSubgraph(
    `${FEDERATION}\ntype User @key(fields: "id") { id: ID! orders: [Order!]! }\ntype Order { id: ID! total: Int! tenant: String! }`,
    `${SERVICE}\nunion _Entity = User\ntype Query { _service: _Service!, _entities(representations: [_Any!]!): [_Entity]! }\ntype User { id: ID! orders: [Order!]! }\ntype Order { id: ID! total: Int! tenant: String! }`,
    (ctx) => ({
      _entities: ({ representations }: { representations: { id: string }[] }) =>
        representations.map((r) => ({
          __typename: 'User',
          id: r.id,
          orders: [
            { id: `${r.id}-o1`, total: 10, tenant: String(ctx.headers['x-portico-tenant']) },
            { id: `${r.id}-o2`, total: 32, tenant: String(ctx.headers['x-portico-tenant']) },
          ],
        })),
    }),
  );
  t = await startTestHub({
    gateway: {
      upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
      graphql: {
        subgraphs: [
          { name: 'users', url: users.url },
          { name: 'orders', url: orders.url },
        ],
      },
    },
  });
});
afterAll(async () => {
  await t.close();
  for (const s of [users, orders]) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

/** POST /graphql to `hub` as a caller of tenant acme, with `body` as the JSON text sent. */
async function postGraphql(hub: TestHub, body: string) {
  return hub.hub.server.inject({
    method: 'POST',
    url: '/graphql',
    headers: { ...(await hub.auth('acme', [])), 'content-type': 'application/json' },
    payload: body,
  });
}

async function query(source: string, headers: Record<string, string> = {}) {
  return t.hub.server.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    payload: JSON.stringify({ query: source }),
  });
}

/** The fetch options of a subscription over server-sent events. */
function subscription(auth: Record<string, string>, source = 'subscription { ticks }') {
  return {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: source }),
  };
}

/** A subscription's event stream as its caller reads it. */
async function subscribe(base: string, auth: Record<string, string>, source?: string) {
  const caller = new AbortController();
  const answer = await fetch(`${base}/graphql`, {
    ...subscription(auth, source),
    signal: caller.signal,
  });
  expect(answer.status).toBe(200);
  expect(answer.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = answer.body!.pipeThrough(new TextDecoderStream()).getReader();
  const stream = {
    received: '',
    async until(text: string): Promise<void> {
      while (!stream.received.includes(text)) {
        const { done, value } = await events.read();
        if (done)
          throw new Error(`the stream ended without ${text}: ${JSON.stringify(stream.received)}`);
        stream.received += value;
      }
    },
    async untilEnd(): Promise<void> {
      for (let chunk = await events.read(); !chunk.done; chunk = await events.read())
        stream.received += chunk.value;
    },
    leave: () => caller.abort(),
  };
  return stream;
}

describe('/graphql federation', () => {
  it('answers one query spanning both subgraphs, with the caller identity at each', async () => {
    const auth = await t.auth('acme', []);
    const res = await query('{ me { id name tenant orders { id total tenant } } }', {
      ...auth,
      'x-portico-tenant': 'spoofed',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      data: {
        me: {
          id: 'dev-user',
          name: 'Name of dev-user',
          tenant: 'acme',
          orders: [
            { id: 'dev-user-o1', total: 10, tenant: 'acme' },
            { id: 'dev-user-o2', total: 32, tenant: 'acme' },
          ],
        },
      },
    });
    const ordersCall = orders.seen.find((s) => s.query.includes('_entities'))!;
    expect(ordersCall.headers['x-portico-tenant']).toBe('acme');
    expect(ordersCall.headers['x-portico-subject']).toBe('dev-user');
    expect(ordersCall.headers.authorization).toBeUndefined();
    expect(users.seen.some((s) => s.headers['x-portico-tenant'] === 'spoofed')).toBe(false);
  });

  it('needs a token, and reports GraphQL errors as GraphQL errors', async () => {
    const anonymous = await query('{ me { id } }');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toContain('application/problem+json');
    const invalid = await query('{ nope }', await t.auth('acme', []));
    expect(invalid.statusCode).toBeLessThan(500);
    expect(invalid.json().errors[0].message).toContain('nope');
  });

  it('does not reach subgraphs outside the allowed networks', async () => {
    const blocked = await startTestHub({
      gateway: { graphql: { subgraphs: [{ name: 'users', url: users.url }] } },
    });
    try {
      const res = await postGraphql(blocked, JSON.stringify({ query: '{ me { id } }' }));
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toContain('users');
      // The SSRF policy's verdict quotes the address: only the log gets it.
      expect(res.json().detail).toBe(
        'the federated graph is not available: subgraph "users" is unreachable',
      );
      expect(res.body).not.toContain('127.0.0.1');
      expect(res.body).not.toContain(new URL(users.url).port);
    } finally {
      await blocked.close();
    }
  });

  it('names a subgraph it cannot compose and the failure, never its address', async () => {
    // Nothing listens on `port` (a server opened and closed): connecting is refused with an
    // error quoting `127.0.0.1:port`.
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const port = String((gone.address() as AddressInfo).port);
    await new Promise((r) => gone.close(r));
    const hub = await startTestHub({
      gateway: {
        upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
        graphql: {
          subgraphs: [
            { name: 'users', url: users.url },
            { name: 'gone', url: `http://127.0.0.1:${port}/graphql` },
          ],
        },
      },
    });
    try {
      const res = await postGraphql(hub, JSON.stringify({ query: '{ me { id } }' }));
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toBe(
        'the federated graph is not available: subgraph "gone" is unreachable',
      );
      expect(res.body).not.toContain(port);
      expect(res.body).not.toContain('127.0.0.1');
      expect(res.body).not.toContain('ECONNREFUSED');
    } finally {
      await hub.close();
    }
  });

  it('says which subgraphs do not compose without quoting their SDL', async () => {
    // `User.name` in both, shareable in neither.
    const other = await startSubgraph(
      `${FEDERATION}\ntype Query { other: User }\ntype User @key(fields: "id") { id: ID! name: String! }`,
      `${SERVICE}\ntype Query { _service: _Service! }`,
      () => ({}),
    );
    const hub = await startTestHub({
      gateway: {
        upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
        graphql: {
          subgraphs: [
            { name: 'users', url: users.url },
            { name: 'other', url: other.url },
          ],
        },
      },
    });
    try {
      const res = await postGraphql(hub, JSON.stringify({ query: '{ me { id } }' }));
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toMatch(
        /^the federated graph is not available: the subgraphs "users", "other" do not compose \(\d+ errors?: [A-Z_, ]+\)$/,
      );
      expect(res.body).not.toContain('User.name');
    } finally {
      await hub.close();
      other.server.closeAllConnections();
      await new Promise((r) => other.server.close(r));
    }
  });

  it('does not reveal a failed subgraph call in development mode either', async () => {
    const sdl = `${FEDERATION}\ntype Query { a: String }`;
    await withBareSubgraph(sdl, { data: { a: 'x' } }, 10_000, async (hub, port, _held, server) => {
      // Composed; now the subgraph goes away and calls to it are refused.
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      const mode = process.env.NODE_ENV;
      process.env.NODE_ENV = 'development';
      try {
        const res = await postGraphql(hub, JSON.stringify({ query: '{ a }' }));
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().data).toEqual({ a: null });
        expect(res.body).not.toContain(String(port));
        expect(res.body).not.toContain('127.0.0.1');
      } finally {
        process.env.NODE_ENV = mode;
      }
    });
  });

  it('cancels the subgraph calls of a caller who leaves', async () => {
    const sdl = `${FEDERATION}\ntype Query { slow: String }`;
    // timeoutMs far beyond the test's own timeout: only the caller leaving can end the call.
    await withBareSubgraph(sdl, undefined, 600_000, async (hub, _port, held) => {
      const base = await hub.hub.server.listen({ port: 0, host: '127.0.0.1' });
      const call = once(held, 'request') as Promise<[ServerResponse]>;
      const caller = new AbortController();
      const answer = fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { ...(await hub.auth('acme', [])), 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ slow }' }),
        signal: caller.signal,
      }).catch((error: unknown) => error);
      const [subgraphResponse] = await call;
      const closed = once(subgraphResponse, 'close');
      caller.abort();
      expect(await answer).toMatchObject({ name: 'AbortError' });
      await closed;
      expect(subgraphResponse.writableFinished).toBe(false);
    });
  });

  it('streams a subscription as server-sent events for as long as the caller listens, past timeoutMs', async () => {
    const sdl = `${FEDERATION}\ntype Query { now: Int }\ntype Subscription { ticks: Int }`;
    const timeoutMs = 300;
    await withBareSubgraph(sdl, undefined, timeoutMs, async (hub, _port, held) => {
      const base = await hub.hub.server.listen({ port: 0, host: '127.0.0.1' });
      const call = once(held, 'request') as Promise<[ServerResponse, IncomingMessage]>;
      held.once('request', (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: next\ndata: ${JSON.stringify({ data: { ticks: 1 } })}\n\n`);
      });
      const events = await subscribe(base, await hub.auth('acme', []));
      const [subgraph, subgraphRequest] = await call;
      expect(subgraphRequest.headers.accept).toContain('text/event-stream');
      await events.until('{"data":{"ticks":1}}');
      // Each tick arrives as it is sent, also after timeoutMs (which bounds plain calls).
      await new Promise((r) => setTimeout(r, 2 * timeoutMs));
      subgraph.write(`event: next\ndata: ${JSON.stringify({ data: { ticks: 2 } })}\n\n`);
      await events.until('{"data":{"ticks":2}}');
      expect(events.received).not.toContain('errors');
      // The caller leaving ends the subgraph's stream too.
      const closed = once(subgraph, 'close');
      events.leave();
      await closed;
    });
  });

  it('ends open subscriptions when the hub closes, also for a caller who does not read', async () => {
    const sdl = `${FEDERATION}\ntype Query { now: Int }\ntype Subscription { ticks: Int }`;
    await withBareSubgraph(sdl, undefined, 300, async (hub, _port, held) => {
      const base = await hub.hub.server.listen({ port: 0, host: '127.0.0.1' });
      const subgraphCalls: ServerResponse[] = [];
      held.on('request', (res: ServerResponse) => {
        subgraphCalls.push(res);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`event: next\ndata: ${JSON.stringify({ data: { ticks: 1 } })}\n\n`);
      });
      const reading = await subscribe(base, await hub.auth('acme', []));
      await reading.until('{"data":{"ticks":1}}');
      // Another caller never reads what it is sent.
      await subscribe(base, await hub.auth('acme', []));
      await waitFor(() => subgraphCalls.length === 2, 'both subscriptions to reach the subgraph');
      const closed = subgraphCalls.map((res) => once(res, 'close'));

      await hub.hub.close();

      await reading.untilEnd();
      await Promise.all(closed);
    });
  });

  it('passes a subscription event on whole, and ends one that never ends with an error', async () => {
    const sdl = `${FEDERATION}\ntype Query { now: Int }\ntype Subscription { word: String }`;
    await withBareSubgraph(sdl, undefined, 300, async (hub, _port, held) => {
      const base = await hub.hub.server.listen({ port: 0, host: '127.0.0.1' });
      // "é" is two bytes in UTF-8; the event comes in two writes, split between them.
      const event = Buffer.from(`event: next\ndata: {"data":{"word":"café"}}\n\n`);
      const split = event.indexOf('é') + 1;
      let subgraph!: ServerResponse;
      held.once('request', (res: ServerResponse) => {
        subgraph = res;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(event.subarray(0, split), () =>
          setTimeout(() => res.write(event.subarray(split)), 50),
        );
      });
      const events = await subscribe(base, await hub.auth('acme', []), 'subscription { word }');
      await events.until('"café"');
      // Then an event without end: its `data:` line goes on and on.
      const closed = once(subgraph, 'close');
      subgraph.write('event: next\ndata: {"data":{"word":"');
      const chunk = 'a'.repeat(64 * 1024);
      const more = () => {
        while (!subgraph.destroyed && subgraph.write(chunk));
      };
      subgraph.on('drain', more);
      more();
      await events.untilEnd();
      expect(events.received).toContain(
        `"message":"sent an event of more than ${MAX_ANSWER_BYTES} bytes"`,
      );
      expect(events.received).toContain('"code":"SUBGRAPH_ANSWER_TOO_LARGE"');
      await closed;
    });
  });

  it('refuses a subscription past the tenant limit with a 429 problem', async () => {
    const sdl = `${FEDERATION}\ntype Query { now: Int }\ntype Subscription { ticks: Int }`;
    await withBareSubgraph(
      sdl,
      undefined,
      300,
      async (hub, _port, held) => {
        const base = await hub.hub.server.listen({ port: 0, host: '127.0.0.1' });
        held.on('request', (res: ServerResponse) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(`event: next\ndata: ${JSON.stringify({ data: { ticks: 1 } })}\n\n`);
        });
        const first = await subscribe(base, await hub.auth('acme', []));
        await first.until('"ticks":1');
        const refused = await fetch(`${base}/graphql`, subscription(await hub.auth('acme', [])));
        expect(refused.status).toBe(429);
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect((await refused.json()).detail).toBe(
          'tenant "acme" already has 1 open GraphQL subscriptions on this node (the limit: gateway.graphql.maxSubscriptionsPerTenant)',
        );
        // Another tenant's callers are not refused for it.
        const other = await subscribe(base, await hub.auth('globex', []));
        await other.until('"ticks":1');
        // A slot is given back when its caller leaves.
        first.leave();
        await waitFor(async () => {
          const again = await fetch(`${base}/graphql`, subscription(await hub.auth('acme', [])));
          await again.body?.cancel();
          return again.status === 200;
        }, 'the slot of the caller who left to be free');
      },
      { maxSubscriptionsPerTenant: 1 },
    );
  });

  it('stops reading a subgraph answer past 8 MiB, or after timeoutMs, with a GraphQL error', async () => {
    const sdl = `${FEDERATION}\ntype Query { slow: String }`;
    await withBareSubgraph(sdl, undefined, 2000, async (hub, _port, held) => {
      let calls = 0;
      held.on('request', (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"data":{"slow":"');
        // The first answer goes on without end, the second stops after its beginning.
        if (++calls > 1) return;
        const chunk = 'a'.repeat(64 * 1024);
        const more = () => {
          while (!res.destroyed && res.write(chunk));
        };
        res.on('drain', more);
        more();
      });
      const endless = await postGraphql(hub, JSON.stringify({ query: '{ slow }' }));
      expect(endless.statusCode, endless.body).toBe(200);
      expect(endless.json()).toMatchObject({
        data: { slow: null },
        errors: [
          {
            message: `answered more than ${MAX_ANSWER_BYTES} bytes`,
            extensions: { code: 'SUBGRAPH_ANSWER_TOO_LARGE', serviceName: 'bare' },
          },
        ],
      });
      const stalled = await postGraphql(hub, JSON.stringify({ query: '{ slow }' }));
      expect(stalled.json()).toMatchObject({
        data: { slow: null },
        errors: [{ message: 'no answer within 2000 ms', extensions: { code: 'GATEWAY_TIMEOUT' } }],
      });
    });
  });

  it('answers documents nested too deeply for the parser with a 400 GraphQL error', async () => {
    const auth = await t.auth('acme', []);
    for (const source of [
      `{ me ${'{ orders '.repeat(5000)}{ id }${' }'.repeat(5000)} }`,
      `{ me(x: ${'['.repeat(5000)}${']'.repeat(5000)}) { id } }`,
    ]) {
      const res = await query(source, auth);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().errors[0].message).toBe('the document nests deeper than 128 levels');
    }
    // Braces inside strings and comments do not count; a real document still runs.
    const strings = await query(`{ me { id } } # ${'{'.repeat(500)}\n`, auth);
    expect(strings.statusCode, strings.body).toBe(200);
  });

  it('refuses operations selecting too many fields or nesting too deeply, fragments spread out', async () => {
    const auth = await t.auth('acme', []);
    const ten = (f: (i: number) => string) => Array.from({ length: 10 }, (_, i) => f(i)).join(' ');
    // 10 x (1 + 10 x (1 + 10)) = 1110 fields from 600 characters.
    const multiplied = `{ ${ten((i) => `m${i}: me { ...U }`)} }
      fragment U on User { ${ten((i) => `o${i}: orders { ...O }`)} }
      fragment O on Order { ${ten((i) => `i${i}: id`)} }`;
    const aliased = `{ ${Array.from({ length: 501 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    for (const source of [multiplied, aliased]) {
      const res = await query(source, auth);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().errors[0].message).toBe('the operation selects more than 1000 fields');
    }
    // A chain of fragments spreading the next: deep recursion for validation and execution.
    const chain = `{ me { ...F0 } } ${Array.from({ length: 5000 }, (_, i) => `fragment F${i} on User { ...F${i + 1} }`).join(' ')} fragment F5000 on User { id }`;
    const chained = await query(chain, auth);
    expect(chained.statusCode, chained.body).toBe(400);
    expect(chained.json().errors[0].message).toBe(
      'selections nest deeper than 256 levels through fragments',
    );
    const introspection = await query(getIntrospectionQuery(), auth);
    expect(introspection.statusCode).toBe(200);
    expect(introspection.json().data.__schema.queryType.name).toBe('Query');
  });

  it('answers malformed GET variables with a 400 GraphQL error', async () => {
    const res = await t.hub.server.inject({
      method: 'GET',
      url: `/graphql?query=${encodeURIComponent('{ me { id } }')}&variables=%7B`,
      headers: { ...(await t.auth('acme', [])), accept: 'application/json' },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().errors[0].message).toContain('"variables"');
  });

  it('refuses media types it cannot read or write with problems that say why', async () => {
    const auth = await t.auth('acme', []);
    const unreadable = await query('{ me { id } }', { ...auth, 'content-type': 'text/plain' });
    expect(unreadable.statusCode).toBe(415);
    expect(unreadable.headers['content-type']).toContain('application/problem+json');
    expect(unreadable.json().detail).toContain('application/json');
    const unwritable = await query('{ me { id } }', { ...auth, accept: 'application/xml' });
    expect(unwritable.statusCode).toBe(406);
    expect(unwritable.headers['content-type']).toContain('application/problem+json');
    expect(unwritable.json().detail).toContain('application/graphql-response+json');
  });

  it('gives up on a subgraph that never answers after timeoutMs, without revealing where it is', async () => {
    const sdl = `${FEDERATION}\ntype Query { slow: String }`;
    await withBareSubgraph(sdl, undefined, 300, async (hub, port) => {
      const res = await postGraphql(hub, JSON.stringify({ query: '{ slow }' }));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        data: { slow: null },
        errors: [
          {
            message: 'no answer within 300 ms',
            extensions: { code: 'GATEWAY_TIMEOUT', serviceName: 'bare' },
          },
        ],
      });
      expect(res.body).not.toContain(String(port));
    });
  });

  it('refuses variables nested too deeply to send on, even for a scalar that takes any JSON', async () => {
    const sdl = `${FEDERATION}\nscalar JSON\ntype Query { echo(j: JSON): JSON }`;
    await withBareSubgraph(sdl, { data: { echo: 1 } }, 10_000, async (hub) => {
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const res = await postGraphql(
        hub,
        `{"query":"query($j: JSON) { echo(j: $j) }","variables":{"j":${deep}}}`,
      );
      expect(res.statusCode, res.body.slice(0, 200)).toBe(400);
      expect(res.json().errors[0].message).toMatch(
        /^"variables" is invalid: \/j\/0\/0.* is nested deeper than 256 levels$/,
      );
    });
  });

  it('stops reading a subgraph SDL answer that never ends, and says so', async () => {
    // `{"data":{"_service":{"sdl":"type Query { a: String } # aaaa…` without end.
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":{"_service":{"sdl":"type Query { a: String } #');
      const chunk = 'a'.repeat(64 * 1024);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
      };
      res.on('drain', more);
      more();
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
    const hub = await startTestHub({
      gateway: {
        upstreams: { allowHttp: true, allowCidrs: ['127.0.0.0/8'] },
        graphql: {
          subgraphs: [
            { name: 'endless', url: `http://127.0.0.1:${(endless.address() as AddressInfo).port}` },
          ],
        },
      },
    });
    try {
      const res = await postGraphql(hub, JSON.stringify({ query: '{ a }' }));
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toContain('"endless" answered { _service { sdl } } with more than');
    } finally {
      await hub.close();
      endless.closeAllConnections();
      await new Promise((r) => endless.close(r));
    }
  });
});
