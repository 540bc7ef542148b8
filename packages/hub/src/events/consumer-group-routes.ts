import type { ServerResponse } from 'node:http';
import { Type } from '@sinclair/typebox';
import { ConsumerGroupLimitError } from '../backbone/consumer-group-limit.ts';
import { ConsumerGroupNotFoundError } from '../backbone/consumer-group-not-found.ts';
import type { EventLog, PulledEvent } from '../backbone/event-log.ts';
import { encodeToken } from '../backbone/nats/subjects.ts';
import type { HubServer } from '../http/server.ts';
import { ProblemError, ProblemType, problems } from '../http/problem.ts';
import { topicPatternProblem } from './topic.ts';
import { StoredEvent, toStoredEvent } from './event-routes.ts';

const GroupName = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'Group name, unique within the tenant',
});
const Tokens = Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
  minItems: 1,
  maxItems: 1000,
});
const Results = Type.Object({
  results: Type.Array(Type.Object({ token: Type.String(), ok: Type.Boolean() })),
});
const GroupInfo = Type.Object({
  name: Type.String(),
  topic: Type.Optional(Type.String()),
  ackWaitSeconds: Type.Number(),
  maxDeliver: Type.Integer(),
  startAt: Type.String(),
  pending: Type.Integer({
    description:
      'Matching events not yet delivered. The embedded log counts them among the next 10,000 events of the tenant: see pendingIsLowerBound',
  }),
  pendingIsLowerBound: Type.Boolean({
    description:
      'True when the count stopped before the end of the log: at least `pending` events wait (exact on NATS JetStream)',
  }),
  inflight: Type.Integer({ description: 'Delivered, not yet acked or terminated' }),
});

/** Consumer groups are tenant-scoped: the log-level name carries the tenant. */
export const groupKey = (tenant: string, name: string) => `${tenant}/${name}`;

/**
 * On NATS a group is the durable consumer `encodeToken(groupKey)`, and JetStream refuses
 * names over 255 characters (a 500). The encoding triples every character of the tenant id
 * other than letters, digits, `_` and `-`, so a tenant id such as `a:b@c.d` leaves less room
 * for the name. Checked on every engine, so they answer alike.
 */
const MAX_GROUP_KEY_ENCODED = 255;

/**
 * Long-polls (`waitSeconds` > 0) one tenant may have waiting at once on this node. Each
 * holds a socket, a timer and a look at the log on every append (of any tenant): 1000
 * waiting pulls of one tenant made every other tenant's publishes ~14x slower. One counts
 * until the log's pull has ended, which a hang-up makes happen at once (see below).
 */
export const MAX_WAITING_PULLS_PER_TENANT = 256;

/**
 * Consumer groups one tenant may have. Each costs on every scrape of /metrics (a lag count
 * and a series), and on NATS it is a durable consumer that JetStream checks on every
 * publish to the stream: 20,000 groups of one tenant made one scrape block the event loop
 * 531 ms and answer 1 MB. A backend service needs a group or a few; 100 leaves room for
 * every service of a large tenant. Config key to come: `events.maxConsumerGroupsPerTenant`.
 */
export const MAX_CONSUMER_GROUPS_PER_TENANT = 100;

/**
 * Consumer groups for backend services: long-poll pull of a batch, then ack / nack / term
 * per event. Several consumers in one group share the work.
 */
export function registerConsumerGroupRoutes(
  server: HubServer,
  deps: { log: EventLog; shutdown: AbortSignal },
): void {
  const { log } = deps;
  const params = Type.Object({ name: GroupName });
  /** Waiting long-polls per tenant (see MAX_WAITING_PULLS_PER_TENANT). */
  const waiting = new Map<string, number>();

  /** 404 unless the tenant has the group: a lookup, not `info`'s lag count. */
  async function mustExist(key: string, name: string): Promise<void> {
    if (!(await log.hasGroup(key)))
      throw problems.notFound(`no consumer group "${name}" in this tenant`);
  }

  async function info(key: string, name: string) {
    const group = await log.getGroup(key);
    if (!group) throw problems.notFound(`no consumer group "${name}" in this tenant`);
    return {
      name,
      ...(group.topicPattern ? { topic: group.topicPattern } : {}),
      ackWaitSeconds: group.ackWaitMs / 1000,
      maxDeliver: group.maxDeliver,
      startAt: group.startAt,
      pending: group.pending,
      pendingIsLowerBound: group.pendingIsLowerBound,
      inflight: group.inflight,
    };
  }

  server.put(
    '/v1/consumer-groups/:name',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'Create or update a consumer group (its position is kept on update)',
        tags: ['consumer groups'],
        params,
        body: Type.Object(
          {
            topic: Type.Optional(
              Type.String({ maxLength: 512, description: 'Topic pattern the group receives' }),
            ),
            ackWaitSeconds: Type.Number({ minimum: 0.1, maximum: 3600, default: 30 }),
            maxDeliver: Type.Integer({
              minimum: 0,
              maximum: 1000,
              default: 0,
              description: '0 = unlimited',
            }),
            startAt: Type.Union([Type.Literal('beginning'), Type.Literal('end')], {
              default: 'end',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: GroupInfo },
      },
    },
    async (request) => {
      const { topic, ackWaitSeconds, maxDeliver, startAt } = request.body;
      if (topic !== undefined) {
        const problem = topicPatternProblem(topic);
        if (problem)
          throw problems.validation(`topic pattern ${problem}`, [
            { pointer: '/topic', detail: problem },
          ]);
      }
      const key = groupKey(request.principal.tenant, request.params.name);
      if (encodeToken(key).length > MAX_GROUP_KEY_ENCODED) {
        const room =
          MAX_GROUP_KEY_ENCODED - encodeToken(groupKey(request.principal.tenant, '')).length;
        const detail =
          room > 0
            ? `must be at most ${room} characters for this tenant`
            : 'cannot fit: this tenant id is too long for consumer group names';
        throw problems.validation(`path is invalid: /name ${detail}`, [
          { pointer: '/name', detail, in: 'path' },
        ]);
      }
      await log
        .ensureGroup(
          {
            name: key,
            tenant: request.principal.tenant,
            topicPattern: topic,
            ackWaitMs: Math.round(ackWaitSeconds * 1000),
            maxDeliver,
            startAt,
          },
          { maxGroupsPerTenant: MAX_CONSUMER_GROUPS_PER_TENANT },
        )
        .catch((error: unknown) => {
          // 409, as for rules and compositions: the tenant's groups conflict with a new one
          // until one is deleted; waiting (429) or changing this request (422) would not help.
          if (error instanceof ConsumerGroupLimitError)
            throw problems.conflict(
              `this tenant already has ${error.limit} consumer groups (the limit): delete one it no longer uses first`,
              { limit: error.limit },
            );
          throw error;
        });
      return info(key, request.params.name);
    },
  );

  server.get(
    '/v1/consumer-groups/:name',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'A consumer group and its lag',
        tags: ['consumer groups'],
        params,
        response: { 200: GroupInfo },
      },
    },
    async (request) =>
      info(groupKey(request.principal.tenant, request.params.name), request.params.name),
  );

  server.delete(
    '/v1/consumer-groups/:name',
    {
      config: { scope: 'events:read' },
      schema: { summary: 'Delete a consumer group', tags: ['consumer groups'], params },
    },
    async (request, reply) => {
      if (!(await log.deleteGroup(groupKey(request.principal.tenant, request.params.name))))
        throw problems.notFound(`no consumer group "${request.params.name}" in this tenant`);
      return reply.code(204).send();
    },
  );

  server.post(
    '/v1/consumer-groups/:name/pull',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'Lease a batch of events (long-poll up to waitSeconds)',
        tags: ['consumer groups'],
        params,
        body: Type.Object(
          {
            consumer: Type.String({
              pattern: '^[A-Za-z0-9_.:-]{1,128}$',
              description: 'This consumer instance',
            }),
            max: Type.Integer({ minimum: 1, maximum: 1000, default: 10 }),
            waitSeconds: Type.Number({ minimum: 0, maximum: 30, default: 0 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            messages: Type.Array(
              Type.Intersect([
                StoredEvent,
                Type.Object({ token: Type.String(), deliveryCount: Type.Integer() }),
              ]),
            ),
          }),
        },
      },
    },
    async (request, reply) => {
      const key = groupKey(request.principal.tenant, request.params.name);
      await mustExist(key, request.params.name);
      const { consumer, max, waitSeconds } = request.body;
      const { tenant } = request.principal;
      const waits = waitSeconds > 0;
      if (waits) {
        const count = waiting.get(tenant) ?? 0;
        if (count >= MAX_WAITING_PULLS_PER_TENANT)
          throw new ProblemError({
            status: 429,
            type: ProblemType.rateLimited,
            title: 'Too many requests',
            detail: `this tenant already has ${MAX_WAITING_PULLS_PER_TENANT} long-polling pulls waiting (the limit): pull with waitSeconds 0, or fewer consumers at once`,
          });
        waiting.set(tenant, count + 1);
      }
      const messages = await pullWhileWanted(
        log,
        key,
        { consumer, max, waitMs: waitSeconds * 1000 },
        deps.shutdown,
        reply.raw,
      )
        .catch((error: unknown) => {
          // Deleted while this pull waited (or between the check above and the pull).
          if (error instanceof ConsumerGroupNotFoundError)
            throw problems.notFound(`consumer group "${request.params.name}" was deleted`);
          throw error;
        })
        .finally(() => {
          if (!waits) return;
          const left = waiting.get(tenant)! - 1;
          if (left === 0) waiting.delete(tenant);
          else waiting.set(tenant, left);
        });
      return {
        messages: messages.map((m) => ({
          ...toStoredEvent(m),
          token: m.token,
          deliveryCount: m.deliveryCount,
        })),
      };
    },
  );

  const settle = (verb: 'ack' | 'nack' | 'term', summary: string) =>
    server.post(
      `/v1/consumer-groups/:name/${verb}`,
      {
        config: { scope: 'events:read' },
        schema: {
          summary,
          tags: ['consumer groups'],
          params,
          body: Type.Object(
            {
              tokens: Tokens,
              ...(verb === 'nack'
                ? { delaySeconds: Type.Number({ minimum: 0, maximum: 86400, default: 0 }) }
                : {}),
            },
            { additionalProperties: false },
          ),
          response: { 200: Results },
        },
      },
      async (request) => {
        const key = groupKey(request.principal.tenant, request.params.name);
        await mustExist(key, request.params.name);
        const body = request.body as { tokens: string[]; delaySeconds?: number };
        const results = [];
        for (const token of body.tokens) {
          const ok =
            verb === 'ack'
              ? await log.ack(key, token)
              : verb === 'nack'
                ? await log.nack(key, token, Math.round((body.delaySeconds ?? 0) * 1000))
                : await log.term(key, token);
          results.push({ token, ok });
        }
        return { results };
      },
    );
  settle('ack', 'Acknowledge events: done, never redelivered');
  settle('nack', 'Give events back, redelivered after delaySeconds');
  settle('term', 'Stop redelivering events (poison messages)');
}

/**
 * A long-poll must not hold shutdown up, nor lease events to a consumer that has hung up:
 * on shutdown it answers empty; if the client leaves, the log's pull is aborted and stops
 * waiting and leasing (a lease for nobody would wait out the ack deadline and spend one of
 * the event's deliveries: with maxDeliver 1 the event was lost, and pulls opened and dropped
 * in a loop kept leasing on every append: 600 of them made one publish cost ~24,000 lease
 * transactions). What it leased just before the abort goes back to the group at once.
 */
async function pullWhileWanted(
  log: EventLog,
  group: string,
  pull: { consumer: string; max: number; waitMs: number },
  shutdown: AbortSignal,
  response: ServerResponse,
): Promise<PulledEvent[]> {
  if (shutdown.aborted) throw problems.unavailable('the hub is shutting down');
  // Before the answer is written, the response closes only when its connection does.
  if (response.destroyed) return [];
  const gone = new AbortController();
  const stop = () => gone.abort();
  shutdown.addEventListener('abort', stop, { once: true });
  response.once('close', stop);
  try {
    const pulled = await log.pull(group, pull.consumer, pull.max, pull.waitMs, gone.signal);
    if (!gone.signal.aborted) return pulled;
    await Promise.all(pulled.map((m) => log.nack(group, m.token, 0))).catch(() => undefined);
    return [];
  } finally {
    shutdown.removeEventListener('abort', stop);
    response.off('close', stop);
  }
}
