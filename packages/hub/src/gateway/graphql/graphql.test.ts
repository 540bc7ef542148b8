/**
 * `/graphql` over two federation subgraphs started in the test (plain graphql-js servers
 * implementing the subgraph protocol: `_service { sdl }` and `_entities`). One query spans
 * both; the caller's verified identity reaches each subgraph.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, graphql, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../../testing/test-hub.ts';

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

async function query(source: string, headers: Record<string, string> = {}) {
  return t.hub.server.inject({
    method: 'POST',
    url: '/graphql',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    payload: JSON.stringify({ query: source }),
  });
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
      const res = await blocked.hub.server.inject({
        method: 'POST',
        url: '/graphql',
        headers: { ...(await blocked.auth('acme', [])), 'content-type': 'application/json' },
        payload: JSON.stringify({ query: '{ me { id } }' }),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toContain('users');
    } finally {
      await blocked.close();
    }
  });
});
