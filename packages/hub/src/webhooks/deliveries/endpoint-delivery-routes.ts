/**
 * An endpoint's deliveries, through the one delivery engine: its attempt log (all of it,
 * or one event's), its DLQ, resending one event, and `recover` (replay every dead
 * delivery of a time window). Scope `webhooks:write`, tenant-scoped like the endpoint.
 */
import { Type } from '@sinclair/typebox';
import { hasScope, type Principal } from '../../auth/principal.ts';
import type { HubServer } from '../../http/server.ts';
import { problems, type FieldError } from '../../http/problem.ts';
import {
  decodeAttemptCursor,
  type AttemptCursor,
  type AttemptLog,
} from '../../delivery/attempt-log.ts';
import {
  decodeCursor,
  REPLAY_LIMIT,
  targetKey,
  type DeliveryStore,
} from '../../delivery/delivery-store.ts';
import { findTargetDeliveries, resendDelivery } from '../../delivery/delivery-resend.ts';
import {
  AttemptView,
  DeliveryView,
  presentAttempt,
  presentDelivery,
} from '../../delivery/dlq-routes.ts';
import type { SqlDatabase } from '../../store/sql-database.ts';
import { tenantOwner } from '../../routing/rule.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { EndpointStore } from '../endpoints/endpoint-store.ts';
import { rfc3339Millis } from '../../http/rfc3339.ts';

export type EndpointDeliveryRouteOptions = {
  endpoints: EndpointStore;
  db: SqlDatabase;
  deliveries: {
    store: DeliveryStore;
    notify(targets: Iterable<{ key: string; kind: string }>): void;
  };
  attempts: AttemptLog;
};

const KIND = 'webhook';

export function registerEndpointDeliveryRoutes(
  server: HubServer,
  o: EndpointDeliveryRouteOptions,
): void {
  const tags = ['webhooks'];
  const idParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
  const eventParams = Type.Object({
    id: Type.String({ minLength: 1, maxLength: 128 }),
    eventId: Type.String({ minLength: 1, maxLength: 256 }),
  });

  /** The endpoint's target in the engine: the tenant's rules' deliveries to it. */
  async function target(principal: Principal, id: string) {
    return targetOf(await visible(principal, id));
  }

  async function visible(principal: Principal, id: string): Promise<Endpoint> {
    const endpoint = await o.endpoints.get(id);
    if (!endpoint || (endpoint.tenant !== principal.tenant && !hasScope(principal, 'admin')))
      throw problems.notFound(`no webhook endpoint "${id}"`);
    return endpoint;
  }

  const AttemptWithDelivery = Type.Intersect([
    Type.Object({ deliveryId: Type.String() }),
    AttemptView,
  ]);

  server.get(
    '/v1/webhooks/endpoints/:id/attempts',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary:
          "The endpoint's latest attempts, newest first (status, latency, the start of the answer)",
        tags,
        params: idParams,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          before: Type.Optional(
            Type.String({
              maxLength: 512,
              description:
                'The `next` of the previous page (opaque); or an RFC 3339 time: attempts started before it',
            }),
          ),
        }),
        response: {
          200: Type.Object({
            attempts: Type.Array(AttemptWithDelivery),
            next: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const t = await target(request.principal, request.params.id);
      const { limit, before } = request.query;
      const page = await o.attempts.pageForTarget(t, {
        limit,
        ...(before === undefined ? {} : attemptsBefore(before)),
      });
      return {
        attempts: page.attempts.map((r) => ({ deliveryId: r.deliveryId, ...presentAttempt(r) })),
        ...(page.next ? { next: page.next } : {}),
      };
    },
  );

  server.get(
    '/v1/webhooks/endpoints/:id/events/:eventId/attempts',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary:
          "One event's deliveries to the endpoint, each with its attempts, oldest attempt first",
        tags,
        params: eventParams,
        response: {
          200: Type.Object({
            deliveries: Type.Array(
              Type.Object({
                deliveryId: Type.String(),
                status: Type.String(),
                attempts: Type.Array(AttemptView),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const t = await target(request.principal, request.params.id);
      const found = await findTargetDeliveries(o.db, t, request.params.eventId);
      if (found.length === 0)
        throw problems.notFound(
          `no delivery of event "${request.params.eventId}" to this endpoint`,
        );
      return {
        deliveries: await Promise.all(
          found.map(async (d) => ({
            deliveryId: d.id,
            status: d.status,
            attempts: (await o.attempts.forDelivery(d.id)).map(presentAttempt),
          })),
        ),
      };
    },
  );

  server.get(
    '/v1/webhooks/endpoints/:id/dlq',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary: "The endpoint's dead-lettered deliveries, newest first",
        tags,
        params: idParams,
        querystring: Type.Object({
          since: Type.Optional(Type.String({ description: 'Dead at or after (RFC 3339)' })),
          until: Type.Optional(Type.String({ description: 'Dead before (RFC 3339)' })),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          after: Type.Optional(
            Type.String({ maxLength: 512, description: 'The `next` of the previous page' }),
          ),
        }),
        response: {
          200: Type.Object({
            entries: Type.Array(DeliveryView),
            next: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const t = await target(request.principal, request.params.id);
      const { since, until, limit, after } = request.query;
      if (after !== undefined && !decodeCursor(after))
        throw problems.validation('after is not a cursor this API returned', [
          { pointer: '/after', detail: 'must be the `next` of a previous page', in: 'query' },
        ]);
      const page = await o.deliveries.store.listDead(
        {
          owner: t.owner,
          kind: t.kind,
          ref: t.ref,
          ...window(since, until, 'query'),
        },
        { limit, ...(after !== undefined ? { after } : {}) },
      );
      return {
        entries: page.entries.map(presentDelivery),
        ...(page.next ? { next: page.next } : {}),
      };
    },
  );

  server.post(
    '/v1/webhooks/endpoints/:id/events/:eventId/resend',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary:
          'Send one event to the endpoint again (delivered or dead); same webhook-id, fresh attempts; 409 while it is pending or the endpoint is disabled',
        tags,
        params: eventParams,
        response: { 202: Type.Object({ deliveryId: Type.String() }) },
      },
    },
    async (request, reply) => {
      const endpoint = await visible(request.principal, request.params.id);
      const t = targetOf(endpoint);
      const found = await findTargetDeliveries(o.db, t, request.params.eventId);
      if (found.length === 0)
        throw problems.notFound(
          `no delivery of event "${request.params.eventId}" to this endpoint (delivered ones are kept 24 h)`,
        );
      refuseDisabled(endpoint);
      // Two rules may each send the event to the endpoint, under one webhook-id: while
      // either delivery is pending, a resend would race it with a second request.
      const finished = found.find((d) => d.status !== 'pending');
      const pending = found.some((d) => d.status === 'pending');
      if (!finished || pending || !(await resendDelivery(o.db, finished.id, Date.now())))
        throw problems.conflict('the event is already on its way to this endpoint (pending)');
      o.deliveries.notify([{ key: targetKey(t.owner, t.kind, t.ref), kind: t.kind }]);
      return reply.code(202).send({ deliveryId: finished.id });
    },
  );

  server.post(
    '/v1/webhooks/endpoints/:id/recover',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary:
          'Replay every dead delivery of the endpoint that died in [since, until); 409 while the endpoint is disabled',
        tags,
        params: idParams,
        body: Type.Object(
          {
            since: Type.String({ description: 'RFC 3339' }),
            until: Type.Optional(Type.String({ description: 'RFC 3339; default now' })),
          },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({
            recovered: Type.Integer(),
            more: Type.Boolean({
              description: `true when the call stopped at its limit (${REPLAY_LIMIT}, the oldest first): call again for the rest`,
            }),
          }),
        },
      },
    },
    async (request, reply) => {
      const endpoint = await visible(request.principal, request.params.id);
      refuseDisabled(endpoint);
      const t = targetOf(endpoint);
      const { since, until } = request.body;
      const { replayed, targetKeys, more } = await o.deliveries.store.replay(
        { owner: t.owner, kind: t.kind, ref: t.ref, ...window(since, until, 'body') },
        Date.now(),
      );
      o.deliveries.notify(targetKeys.map((key) => ({ key, kind: t.kind })));
      return reply.code(202).send({ recovered: replayed, more });
    },
  );
}

function targetOf(endpoint: Endpoint) {
  return { owner: tenantOwner(endpoint.tenant), kind: KIND, ref: endpoint.id };
}

/**
 * Resend and recover send only to an enabled endpoint: a delivery to a disabled one goes
 * straight back to the DLQ (`endpoint-disabled`), so accepting them answered 202 for work
 * that could not succeed, and spent an attempt of each.
 */
function refuseDisabled(endpoint: Endpoint): void {
  if (!endpoint.enabled)
    throw problems.conflict(
      `the endpoint is disabled (${endpoint.disabledReason ?? 'manual'}): enable it first, then recover or resend`,
    );
}

/**
 * `before` was documented as an RFC 3339 time (the `next` was the last attempt's start),
 * so a client that builds one, or holds an old `next`, still gets the attempts started
 * before it. Anything else must be a cursor this API made: a 400 naming the parameter,
 * never a value passed on to the database.
 */
function attemptsBefore(before: string): { before: number } | { after: AttemptCursor } {
  if (/^\d{4}-\d\d-\d\dT/.test(before)) return { before: parseTime(before, '/before', 'query') };
  const after = decodeAttemptCursor(before);
  if (!after)
    throw problems.validation('before is not a cursor this API returned', [
      {
        pointer: '/before',
        detail: 'must be the `next` of a previous page (or an RFC 3339 date-time)',
        in: 'query',
      },
    ]);
  return { after };
}

function parseTime(value: string, pointer: string, where: 'query' | 'body'): number {
  const ms = rfc3339Millis(value);
  if (ms === undefined)
    throw problems.validation(`${pointer} must be an RFC 3339 date-time`, [
      { pointer, detail: 'must be an RFC 3339 date-time such as 2025-01-31T12:00:00Z', in: where },
    ]);
  return ms;
}

function window(
  since: string | undefined,
  until: string | undefined,
  where: 'query' | 'body',
): { since?: number; until?: number } {
  const w: { since?: number; until?: number } = {};
  if (since !== undefined) w.since = parseTime(since, '/since', where);
  if (until !== undefined) w.until = parseTime(until, '/until', where);
  if (w.since !== undefined && w.until !== undefined && w.since >= w.until) {
    const errors: FieldError[] = [
      { pointer: '/until', detail: 'must be later than since', in: where },
    ];
    throw problems.validation('until must be later than since', errors);
  }
  return w;
}
