import { Type } from '@sinclair/typebox';
import type { EventLog, LogEntry } from '../backbone/event-log.ts';
import { hasScope, type Principal } from '../auth/principal.ts';
import type { HubServer } from '../http/server.ts';
import { problems } from '../http/problem.ts';
import { parseCloudEventsRequest } from './http-binding.ts';
import type { EventIngestor } from './ingest-events.ts';
import { topicPatternProblem } from './topic.ts';
import { createTraceparentSource } from './trace-context.ts';

const AcceptedEvent = Type.Object({
  id: Type.String(),
  topic: Type.String(),
  partition: Type.Integer(),
  position: Type.Integer({
    description: 'Resumable position in the event log (for a duplicate: the original).',
  }),
  duplicate: Type.Boolean(),
});

export const StoredEvent = Type.Object({
  position: Type.Integer(),
  partition: Type.Integer(),
  topic: Type.String(),
  recordedtime: Type.String(),
  event: Type.Record(Type.String(), Type.Unknown(), {
    description: 'The CloudEvent in structured JSON form',
  }),
});

export function toStoredEvent(entry: LogEntry) {
  return {
    position: entry.position,
    partition: entry.partition,
    topic: entry.topic,
    recordedtime: entry.event.recordedtime,
    event: entry.event,
  };
}

/** The tenant a read acts on: the caller's own, or (admin only) the one asked for. */
export function tenantFor(principal: Principal, requested: string | undefined): string {
  if (requested === undefined || requested === principal.tenant) return principal.tenant;
  if (!hasScope(principal, 'admin'))
    throw problems.forbidden(`tenant "${requested}" is not the caller's tenant`);
  return requested;
}

export function registerEventRoutes(
  server: HubServer,
  deps: { log: EventLog; ingestor: EventIngestor; maxRequestBytes: number },
): void {
  const { log, ingestor } = deps;
  const traceparentFor = createTraceparentSource();

  // Publishing parses the body itself: the CloudEvents binding decides by content type.
  server.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // The structured and batch types by name as well: Fastify caches a parser found by
    // content type, but looks the catch-all up afresh (parsing the header) every request.
    for (const type of ['application/cloudevents+json', 'application/cloudevents-batch+json', '*'])
      scope.addContentTypeParser(
        type,
        { parseAs: 'buffer', bodyLimit: deps.maxRequestBytes },
        (_req, body, done) => done(null, body),
      );
    scope.post(
      '/v1/events',
      {
        config: { scope: 'events:publish' },
        schema: {
          summary: 'Publish CloudEvents (structured, binary or batch mode)',
          tags: ['events'],
          response: { 202: Type.Object({ events: Type.Array(AcceptedEvent) }) },
        },
      },
      async (request, reply) => {
        const parsed = parseCloudEventsRequest(request.headers, request.body as Buffer | undefined);
        const events = await ingestor.ingest({
          principal: request.principal,
          mode: parsed.mode,
          events: parsed.events,
          traceparent: traceparentFor(request.headers.traceparent),
        });
        return reply.code(202).send({ events });
      },
    );
  });

  server.get(
    '/v1/events',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "Page through the tenant's event log",
        description:
          "Returns up to `limit` events after `after`, oldest first. Page on with `after` = `next` while `more` is true. With a `topic` pattern the hub examines a bounded number of the tenant's events per request (10,000 on the embedded log), so a pattern that matches little may answer fewer than `limit` events, even none, with `more: true`: `next` then moves past the events examined, and paging on from it never skips a match. `more: false` means the log was read to its end (as of the request); poll again from `next` for later events.",
        tags: ['events'],
        querystring: Type.Object({
          topic: Type.Optional(
            Type.String({
              description: 'Topic pattern: `*` one segment, `>` the rest',
              maxLength: 512,
            }),
          ),
          after: Type.Integer({
            minimum: 0,
            // A larger number is not exact once parsed; the log refuses it.
            maximum: Number.MAX_SAFE_INTEGER,
            default: 0,
            description: 'Exclusive position to start after',
          }),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          tenant: Type.Optional(Type.String({ description: 'Another tenant (admin only)' })),
        }),
        response: {
          200: Type.Object({
            events: Type.Array(StoredEvent),
            next: Type.Integer({
              description:
                'Pass as `after` to continue: every matching event up to it is in this or an earlier page (it may be past the last event returned)',
            }),
            more: Type.Boolean({
              description:
                "True: read on from `next` (the page is full, or the hub stopped early after examining its share of events). False: nothing more up to the log's end",
            }),
            first: Type.Integer({ description: 'Oldest position still retained' }),
          }),
        },
      },
    },
    async (request) => {
      const { topic, after, limit } = request.query;
      if (topic !== undefined) {
        const problem = topicPatternProblem(topic);
        if (problem)
          throw problems.validation(`topic pattern ${problem}`, [
            { pointer: '/topic', detail: problem, in: 'query' },
          ]);
      }
      const tenant = tenantFor(request.principal, request.query.tenant);
      const [page, bounds] = await Promise.all([
        log.read({ tenant, topicPattern: topic, after, limit }),
        log.bounds(),
      ]);
      return {
        events: page.entries.map(toStoredEvent),
        next: page.next,
        more: !page.end,
        first: bounds.first,
      };
    },
  );

  server.get(
    '/v1/events/:id',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: 'One event by its CloudEvents id',
        tags: ['events'],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) }),
        querystring: Type.Object({ tenant: Type.Optional(Type.String()) }),
        response: { 200: StoredEvent },
      },
    },
    async (request) => {
      const tenant = tenantFor(request.principal, request.query.tenant);
      const entry = await log.getById(tenant, request.params.id);
      if (!entry) throw problems.notFound(`no event with id "${request.params.id}" in this tenant`);
      return toStoredEvent(entry);
    },
  );
}
