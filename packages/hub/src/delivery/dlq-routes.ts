/**
 * The DLQ API: list dead deliveries (`GET /v1/dlq`), replay a selection of them
 * (`POST /v1/dlq/replay`: one entry, a time range, all of a rule's or a target's), and
 * look up any delivery's state (`GET /v1/deliveries/{id}`) and its attempt log
 * (`GET /v1/deliveries/{id}/attempts`). Tenant-scoped like rules: a
 * tenant sees the deliveries of its own rules; platform rules' with `scope=platform`
 * (admin).
 */
import { Type } from '@sinclair/typebox';
import type { HubServer } from '../http/server.ts';
import { problems, type FieldError } from '../http/problem.ts';
import { rfc3339Millis } from '../http/rfc3339.ts';
import { canSee, ownerFor } from '../routing/owner-scope.ts';
import { tenantOf } from '../routing/rule.ts';
import type { AttemptLog, AttemptRecord } from './attempt-log.ts';
import {
  decodeCursor,
  REPLAY_LIMIT,
  type DeadFilter,
  type DeliveryRecord,
  type DeliveryStore,
} from './delivery-store.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const DeliveryView = Type.Object({
  id: Type.String({
    description: 'Stable for every attempt and replay: receivers deduplicate on it',
  }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
  scope: Type.Union([Type.Literal('tenant'), Type.Literal('platform')]),
  tenant: Type.String({ description: "The event's tenant" }),
  rule: Type.Object({ id: Type.String(), name: Type.String() }),
  target: Type.Object({
    index: Type.Integer(),
    kind: Type.String(),
    destination: Type.String(),
    config: Type.Record(Type.String(), Type.Unknown()),
  }),
  event: Type.Record(Type.String(), Type.Unknown()),
  attempts: Type.Integer({
    description: 'Attempts since the delivery was routed or last replayed',
  }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()], {
    description: 'Why it is dead: max-attempts, max-age, or the reason a target gave',
  }),
  createdAt: Type.String(),
  lastAttemptAt: Type.Union([Type.String(), Type.Null()]),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()]),
  deliveredAt: Type.Union([Type.String(), Type.Null()]),
  deadAt: Type.Union([Type.String(), Type.Null()]),
  replays: Type.Integer(),
});

export function presentDelivery(d: DeliveryRecord) {
  return {
    id: d.id,
    status: d.status,
    scope: tenantOf(d.owner) === undefined ? ('platform' as const) : ('tenant' as const),
    tenant: d.tenant,
    rule: { id: d.ruleId, name: d.ruleName },
    target: { index: d.targetIndex, kind: d.kind, destination: d.ref, config: d.target },
    event: d.event,
    attempts: d.attempts,
    lastError: d.lastError,
    reason: d.reason,
    createdAt: new Date(d.createdAt).toISOString(),
    lastAttemptAt: iso(d.lastAttemptAt),
    nextAttemptAt: d.status === 'pending' ? iso(d.dueAt) : null,
    deliveredAt: iso(d.deliveredAt),
    deadAt: iso(d.deadAt),
    replays: d.replays,
  };
}

export const AttemptView = Type.Object({
  replay: Type.Integer({
    description: '0 for the delivery as first routed, n after the nth replay',
  }),
  attempt: Type.Integer({ description: '1 for the first attempt after routing or a replay' }),
  startedAt: Type.String(),
  durationMs: Type.Integer(),
  outcome: Type.Union(
    [
      Type.Literal('delivered'),
      Type.Literal('retry'),
      Type.Literal('failed'),
      Type.Literal('timeout'),
    ],
    {
      description:
        "The target's answer: delivered, retry (a transient failure), failed (final), or timeout",
    },
  ),
  statusCode: Type.Union([Type.Integer(), Type.Null()], {
    description: "The receiver's status code, when the target kind has one",
  }),
  error: Type.Union([Type.String(), Type.Null()]),
  response: Type.Union([Type.String(), Type.Null()], {
    description:
      "The start of the receiver's answer (at most 1 KiB), when the target kind keeps it",
  }),
  retryAfterMs: Type.Union([Type.Integer(), Type.Null()], {
    description: 'The delay the target asked for (e.g. Retry-After)',
  }),
  nextAttemptAt: Type.Union([Type.String(), Type.Null()], {
    description: 'When the engine scheduled the next attempt, if it did',
  }),
  deadReason: Type.Union([Type.String(), Type.Null()], {
    description: 'Set when this attempt sent the delivery to the DLQ',
  }),
});

export function presentAttempt(a: AttemptRecord) {
  return {
    replay: a.replay,
    attempt: a.attempt,
    startedAt: new Date(a.startedAt).toISOString(),
    durationMs: a.durationMs,
    outcome: a.outcome,
    statusCode: a.statusCode,
    error: a.error,
    response: a.response,
    retryAfterMs: a.retryAfterMs,
    nextAttemptAt: iso(a.nextAttemptAt),
    deadReason: a.deadReason,
  };
}

const Selector = {
  scope: Type.Optional(Type.Union([Type.Literal('tenant'), Type.Literal('platform')])),
  tenant: Type.Optional(Type.String({ minLength: 1, description: 'Another tenant (admin only)' })),
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'One DLQ entry' })),
  ruleId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  // maximum: `target_index` is a PostgreSQL integer (a larger number was a 500 there).
  targetIndex: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 2_147_483_647,
      description: "With ruleId: one of the rule's targets",
    }),
  ),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Target kind' })),
  destination: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'Queue name, push channel or endpoint id',
    }),
  ),
  since: Type.Optional(Type.String({ description: 'Dead at or after (RFC 3339)' })),
  until: Type.Optional(Type.String({ description: 'Dead before (RFC 3339)' })),
};

type SelectorInput = {
  scope?: 'tenant' | 'platform';
  tenant?: string;
  id?: string;
  ruleId?: string;
  targetIndex?: number;
  kind?: string;
  destination?: string;
  since?: string;
  until?: string;
};

export function registerDlqRoutes(
  server: HubServer,
  deps: {
    store: DeliveryStore;
    attempts: AttemptLog;
    onReplayed: (targets: { key: string; kind: string }[]) => void;
  },
): void {
  const { store, attempts } = deps;
  const tags = ['deliveries'];

  function filterFrom(
    principal: Parameters<typeof ownerFor>[0],
    input: SelectorInput,
    where: 'query' | 'body',
  ): DeadFilter {
    const filter: DeadFilter = { owner: ownerFor(principal, input) };
    const errors: FieldError[] = [];
    for (const key of ['since', 'until'] as const) {
      const value = input[key];
      if (value === undefined) continue;
      const ms = rfc3339Millis(value);
      if (ms === undefined)
        errors.push({
          pointer: `/${key}`,
          detail: 'must be an RFC 3339 date-time such as 2025-01-31T12:00:00Z',
          in: where,
        });
      else filter[key] = ms;
    }
    if (input.targetIndex !== undefined && input.ruleId === undefined)
      errors.push({
        pointer: '/targetIndex',
        detail: 'needs ruleId (a target index names a target of one rule)',
        in: where,
      });
    if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until)
      errors.push({ pointer: '/until', detail: 'must be later than since', in: where });
    if (errors.length > 0)
      throw problems.validation(`${errors[0]!.pointer} ${errors[0]!.detail}`, errors);
    if (input.id !== undefined) filter.id = input.id;
    if (input.ruleId !== undefined) filter.ruleId = input.ruleId;
    if (input.targetIndex !== undefined) filter.targetIndex = input.targetIndex;
    if (input.kind !== undefined) filter.kind = input.kind;
    if (input.destination !== undefined) filter.ref = input.destination;
    return filter;
  }

  server.get(
    '/v1/dlq',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'Dead-lettered deliveries, newest first',
        tags,
        querystring: Type.Object({
          ...Selector,
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
      const { limit, after, ...selector } = request.query;
      if (after !== undefined && !decodeCursor(after))
        throw problems.validation('after is not a cursor this API returned', [
          { pointer: '/after', detail: 'must be the `next` of a previous page', in: 'query' },
        ]);
      const page = await store.listDead(filterFrom(request.principal, selector, 'query'), {
        limit,
        ...(after !== undefined ? { after } : {}),
      });
      return {
        entries: page.entries.map(presentDelivery),
        ...(page.next ? { next: page.next } : {}),
      };
    },
  );

  server.post(
    '/v1/dlq/replay',
    {
      config: { scope: 'rules:write' },
      schema: {
        summary:
          "Replay dead deliveries: one entry, a time range, or all of a rule's or a target's",
        description:
          'Selected entries get a fresh attempt budget and are attempted again at once, keeping their delivery id. At least one of id, ruleId, kind, destination, since, until is required.',
        tags,
        body: Type.Object(Selector, { additionalProperties: false }),
        response: {
          200: Type.Object({
            replayed: Type.Integer(),
            more: Type.Boolean({
              description: `true when the call stopped at its limit (${REPLAY_LIMIT}, the oldest first): call again for the rest`,
            }),
          }),
        },
      },
    },
    async (request) => {
      const body = request.body as SelectorInput;
      const filter = filterFrom(request.principal, body, 'body');
      const { owner: _owner, ...selection } = filter;
      if (Object.keys(selection).length === 0)
        throw problems.validation(
          'say what to replay: id, ruleId, kind, destination, since or until',
          [
            {
              pointer: '',
              detail: 'needs at least one of id, ruleId, kind, destination, since, until',
            },
          ],
        );
      const { replayed, targetKeys, more } = await store.replay(filter, Date.now());
      if (filter.id !== undefined && replayed === 0)
        throw problems.notFound(`no dead delivery "${filter.id}" here`);
      deps.onReplayed(targetKeys.map((key) => ({ key, kind: kindOfKey(key) })));
      return { replayed, more };
    },
  );

  server.get(
    '/v1/deliveries/:id',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "One delivery's state (pending, delivered or dead)",
        tags,
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: DeliveryView },
      },
    },
    async (request) => {
      const delivery = await store.getById(request.params.id);
      if (!delivery || !canSee(request.principal, delivery.owner))
        throw problems.notFound(`no delivery "${request.params.id}"`);
      return presentDelivery(delivery);
    },
  );

  server.get(
    '/v1/deliveries/:id/attempts',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "One delivery's attempt log, oldest first (replays included)",
        tags,
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: Type.Object({ attempts: Type.Array(AttemptView) }) },
      },
    },
    async (request) => {
      const delivery = await store.getById(request.params.id);
      if (!delivery || !canSee(request.principal, delivery.owner))
        throw problems.notFound(`no delivery "${request.params.id}"`);
      return { attempts: (await attempts.forDelivery(delivery.id)).map(presentAttempt) };
    },
  );
}

/** Target keys are `[owner, kind, destination]` as JSON (delivery-store.ts). */
function kindOfKey(key: string): string {
  return (JSON.parse(key) as [string, string, string])[1];
}
