/**
 * The Endpoints API: `/v1/webhooks/endpoints` (create, list), `/{id}` (get, update,
 * delete), `/{id}/enable`, `/{id}/disable`, `/{id}/rotate-secret`. Scope
 * `webhooks:write`; an endpoint belongs to the caller's tenant, and another tenant's
 * endpoint is 404 like a missing one (`admin` reaches any by id). The signing secret is
 * in the answer to creation and rotation only.
 */
import { Type } from '@sinclair/typebox';
import { hasScope, type Principal } from '../../auth/principal.ts';
import type { HubServer } from '../../http/server.ts';
import { problems, type FieldError } from '../../http/problem.ts';
import { validatePattern, type Pattern } from '../../routing/pattern/index.ts';
import { RuleLimitError, RuleNameTakenError } from '../../routing/rule-store.ts';
import { ed25519PublicKeyOf } from '../signing/index.ts';
import { validateTargetUrl, type TargetUrlPolicy } from '../ssrf/index.ts';
import type { Endpoint } from './endpoint.ts';
import type { EndpointChanges, EndpointStore } from './endpoint-store.ts';
import {
  EndpointGoneError,
  EndpointLimitError,
  TooManyRotationsError,
  type EndpointService,
} from './endpoint-service.ts';
import { MAX_EVENT_TYPES, validateEventTypes } from './event-types.ts';

export type EndpointRouteOptions = {
  store: EndpointStore;
  service: EndpointService;
  urlPolicy: TargetUrlPolicy;
  maxConcurrency: number;
  /** Default grace of a rotated-out secret, ms. */
  rotationGraceMs: number;
  maxFilterBytes?: number;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const EndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  eventTypes: Type.Array(Type.String()),
  filter: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  enabled: Type.Boolean(),
  disabledReason: Type.Union([
    Type.Literal('manual'),
    Type.Literal('gone'),
    Type.Literal('failing'),
    Type.Null(),
  ]),
  disabledAt: Type.Union([Type.String(), Type.Null()]),
  rateLimitPerSecond: Type.Union([Type.Integer(), Type.Null()]),
  concurrency: Type.Integer(),
  ed25519: Type.Boolean(),
  ed25519PublicKeys: Type.Array(Type.String(), {
    description: 'Public keys (whpk_) that verify v1a signatures now, newest first',
  }),
  previousSecretExpiresAt: Type.Union([Type.String(), Type.Null()], {
    description: 'Until then, deliveries are also signed with the secret before the last rotation',
  }),
  failingSince: Type.Union([Type.String(), Type.Null()]),
  ruleId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const WithKeys = Type.Object({
  secret: Type.String({
    description: 'whsec_…: shown now only; verify webhook-signature v1 with it',
  }),
  ed25519PublicKey: Type.Optional(Type.String({ description: 'whpk_…: verifies v1a signatures' })),
});

export function presentEndpoint(e: Endpoint, now = Date.now()) {
  const live = e.secrets.previous.filter((p) => p.expiresAt > now);
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: e.eventTypes,
    filter: e.filter,
    enabled: e.enabled,
    disabledReason: e.disabledReason,
    disabledAt: iso(e.disabledAt),
    rateLimitPerSecond: e.rateLimitPerSecond,
    concurrency: e.concurrency,
    ed25519: e.ed25519,
    ed25519PublicKeys: e.ed25519
      ? [e.secrets.current, ...live].flatMap((k) =>
          k.ed25519 !== undefined ? [ed25519PublicKeyOf(k.ed25519)] : [],
        )
      : [],
    previousSecretExpiresAt:
      live.length > 0 ? iso(Math.max(...live.map((p) => p.expiresAt))) : null,
    failingSince: iso(e.failingSince),
    ruleId: e.ruleId,
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
  };
}

function bodyFields(maxConcurrency: number) {
  return {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'https:// URL to POST to' }),
    description: Type.String({ maxLength: 1024 }),
    eventTypes: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      minItems: 1,
      maxItems: MAX_EVENT_TYPES,
      description:
        'Event types: exact (billing.invoice.paid), "*" for one segment (billing.*.paid), ">" last for the rest (billing.>), or ">" for all',
    }),
    filter: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
      description: 'EventBridge pattern over the whole CloudEvent, ANDed with eventTypes',
    }),
    enabled: Type.Boolean(),
    rateLimitPerSecond: Type.Union([Type.Integer({ minimum: 1, maximum: 100_000 }), Type.Null()], {
      description: 'Requests per second to this endpoint (null: unlimited)',
    }),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: maxConcurrency,
      description: 'Requests in flight at once to this endpoint (per hub node)',
    }),
    ed25519: Type.Boolean({ description: 'Also sign with ed25519 (v1a)' }),
  };
}

type Body = {
  url?: string;
  description?: string;
  eventTypes?: string[];
  filter?: Record<string, unknown> | null;
  enabled?: boolean;
  rateLimitPerSecond?: number | null;
  concurrency?: number;
  ed25519?: boolean;
};

export function registerEndpointRoutes(server: HubServer, o: EndpointRouteOptions): void {
  const tags = ['webhooks'];
  const idParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
  const fields = bodyFields(o.maxConcurrency);
  const maxFilterBytes = o.maxFilterBytes ?? 16 * 1024;

  /**
   * All problems of a body the schema cannot see, at once; the URL as it will be contacted
   * (parsed and serialised: `https://a.example\\@b.example/` is stored as the
   * `https://a.example/@b.example/` it reaches, IDN hosts in punycode).
   */
  function check(body: Body): { url: string | undefined } {
    const errors: FieldError[] = [];
    let url: string | undefined;
    if (body.url !== undefined) {
      const checked = validateTargetUrl(body.url, o.urlPolicy);
      if (checked.ok) url = checked.url.href;
      else errors.push({ pointer: '/url', detail: checked.reason });
    }
    if (body.eventTypes !== undefined) errors.push(...validateEventTypes(body.eventTypes));
    if (body.filter !== undefined && body.filter !== null) {
      const size = Buffer.byteLength(JSON.stringify(body.filter));
      if (size > maxFilterBytes)
        errors.push({ pointer: '/filter', detail: `is ${size} bytes; at most ${maxFilterBytes}` });
      else if (Object.hasOwn(body.filter, 'type'))
        errors.push({
          pointer: '/filter/type',
          detail: 'select event types with eventTypes; the filter may not also name type',
        });
      else if (Object.keys(body.filter).length > 0)
        for (const p of validatePattern(body.filter))
          errors.push({ pointer: `/filter${p.pointer}`, detail: p.detail });
    }
    if (errors.length > 0)
      throw problems.validation(
        `the endpoint is invalid: ${errors[0]!.pointer} ${errors[0]!.detail}`,
        errors,
      );
    return { url };
  }

  async function visible(principal: Principal, id: string): Promise<Endpoint> {
    const endpoint = await o.store.get(id);
    if (!endpoint || (endpoint.tenant !== principal.tenant && !hasScope(principal, 'admin')))
      throw problems.notFound(`no webhook endpoint "${id}"`);
    return endpoint;
  }

  /** The service's refusals as answers (nothing was written). */
  const refused = (error: unknown): never => {
    // Deleted by a concurrent request after `visible` read it: 404, as a moment later.
    if (error instanceof EndpointGoneError) throw problems.notFound(error.message);
    if (error instanceof EndpointLimitError)
      throw problems.conflict(error.message, { limit: error.limit });
    if (error instanceof TooManyRotationsError)
      throw problems.conflict(error.message, {
        limit: error.limit,
        retryAt: new Date(error.retryAt).toISOString(),
      });
    if (error instanceof RuleLimitError)
      throw problems.conflict(
        `each endpoint is a routing rule, and the tenant's limit of ${error.limit} rules is reached`,
        { limit: error.limit },
      );
    if (error instanceof RuleNameTakenError)
      throw problems.conflict(
        `a rule named like this endpoint's managed rule exists: ${error.message}`,
      );
    throw error;
  };

  server.post(
    '/v1/webhooks/endpoints',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary: 'Create a webhook endpoint (the answer holds its signing secret, shown only now)',
        tags,
        body: Type.Object(
          {
            url: fields.url,
            description: Type.Optional(fields.description),
            eventTypes: Type.Optional(fields.eventTypes),
            filter: Type.Optional(fields.filter),
            enabled: Type.Optional(fields.enabled),
            rateLimitPerSecond: Type.Optional(fields.rateLimitPerSecond),
            concurrency: Type.Optional(fields.concurrency),
            ed25519: Type.Optional(fields.ed25519),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Intersect([EndpointView, WithKeys]) },
      },
    },
    async (request, reply) => {
      const body = request.body as Body & { url: string };
      const { url } = check(body);
      const tenant = request.principal.tenant;
      // The service counts the tenant's endpoints inside the creating transaction, so
      // concurrent creations cannot all pass the limit.
      const { endpoint, keys } = await o.service
        .create(tenant, {
          url: url!,
          description: body.description ?? '',
          eventTypes: body.eventTypes ?? ['>'],
          filter: emptyToNull(body.filter),
          enabled: body.enabled ?? true,
          rateLimitPerSecond: body.rateLimitPerSecond ?? null,
          concurrency: body.concurrency ?? Math.min(4, o.maxConcurrency),
          ed25519: body.ed25519 ?? false,
        })
        .catch(refused);
      return reply
        .code(201)
        .header('location', `/v1/webhooks/endpoints/${endpoint.id}`)
        .header('cache-control', 'no-store')
        .send({ ...presentEndpoint(endpoint), ...keys });
    },
  );

  server.get(
    '/v1/webhooks/endpoints',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary: "The tenant's webhook endpoints, oldest first",
        tags,
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          after: Type.Optional(
            Type.String({ maxLength: 128, description: 'The `next` of the previous page' }),
          ),
        }),
        response: {
          200: Type.Object({
            endpoints: Type.Array(EndpointView),
            next: Type.Optional(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const tenant = request.principal.tenant;
      let cursor: Endpoint | undefined;
      if (after !== undefined) {
        cursor = await o.store.get(after);
        if (!cursor || cursor.tenant !== tenant)
          throw problems.validation('after is not an endpoint of this tenant', [
            { pointer: '/after', detail: 'must be the `next` of a previous page', in: 'query' },
          ]);
      }
      const rows = await o.store.list(tenant, {
        limit: limit + 1,
        ...(cursor ? { after: cursor } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        endpoints: page.map((e) => presentEndpoint(e)),
        ...(rows.length > limit && last ? { next: last.id } : {}),
      };
    },
  );

  server.get(
    '/v1/webhooks/endpoints/:id',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary: 'One webhook endpoint (never its secret)',
        tags,
        params: idParams,
        response: { 200: EndpointView },
      },
    },
    async (request) => presentEndpoint(await visible(request.principal, request.params.id)),
  );

  server.patch(
    '/v1/webhooks/endpoints/:id',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary: 'Change an endpoint (only the fields given); its routing follows at once',
        tags,
        params: idParams,
        body: Type.Object(
          {
            url: Type.Optional(fields.url),
            description: Type.Optional(fields.description),
            eventTypes: Type.Optional(fields.eventTypes),
            filter: Type.Optional(fields.filter),
            rateLimitPerSecond: Type.Optional(fields.rateLimitPerSecond),
            concurrency: Type.Optional(fields.concurrency),
            ed25519: Type.Optional(fields.ed25519),
          },
          { additionalProperties: false },
        ),
        response: { 200: EndpointView },
      },
    },
    async (request) => {
      const endpoint = await visible(request.principal, request.params.id);
      const body = request.body as Body;
      const { url } = check(body);
      const changes: EndpointChanges = {
        url,
        description: body.description,
        eventTypes: body.eventTypes,
        ...(body.filter !== undefined ? { filter: emptyToNull(body.filter) } : {}),
        ...(body.rateLimitPerSecond !== undefined
          ? { rateLimitPerSecond: body.rateLimitPerSecond }
          : {}),
        concurrency: body.concurrency,
        ed25519: body.ed25519,
      };
      return presentEndpoint(await o.service.update(endpoint, changes).catch(refused));
    },
  );

  server.delete(
    '/v1/webhooks/endpoints/:id',
    {
      config: { scope: 'webhooks:write' },
      schema: {
        summary: 'Delete an endpoint; its pending deliveries go to the DLQ (endpoint-not-found)',
        tags,
        params: idParams,
      },
    },
    async (request, reply) => {
      await o.service.remove(await visible(request.principal, request.params.id)).catch(refused);
      return reply.code(204).send();
    },
  );

  for (const action of ['enable', 'disable'] as const)
    server.post(
      `/v1/webhooks/endpoints/:id/${action}`,
      {
        config: { scope: 'webhooks:write' },
        schema: {
          summary:
            action === 'enable'
              ? 'Enable an endpoint (clears its failing streak); recover what failed meanwhile with /recover'
              : 'Disable an endpoint: nothing is routed to it, and pending deliveries go to its DLQ',
          tags,
          params: idParams,
          response: { 200: EndpointView },
        },
      },
      async (request) => {
        const endpoint = await visible(request.principal, request.params.id);
        const result = await o.service.setEnabled(endpoint, action === 'enable').catch(refused);
        return presentEndpoint(result.endpoint);
      },
    );

  server.post(
    '/v1/webhooks/endpoints/:id/rotate-secret',
    {
      config: { scope: 'webhooks:write' },
      // The body is optional, but Ajv checks an absent one against the object schema too
      // ("/ must be object"): a request without one asks for the default grace.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      schema: {
        summary:
          'New signing secret (shown only now); the old one keeps signing during the grace period',
        tags,
        params: idParams,
        body: Type.Optional(
          Type.Object(
            {
              graceSeconds: Type.Optional(
                Type.Union([Type.Integer({ minimum: 0, maximum: 30 * 86_400 }), Type.Null()], {
                  description:
                    'How long the old secret keeps signing (absent or null: the operator setting, 24 h)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: {
          200: Type.Intersect([WithKeys, Type.Object({ previousSecretExpiresAt: Type.String() })]),
        },
      },
    },
    async (request, reply) => {
      const endpoint = await visible(request.principal, request.params.id);
      const body = (request.body ?? {}) as { graceSeconds?: number | null };
      const graceMs =
        body.graceSeconds !== undefined && body.graceSeconds !== null
          ? body.graceSeconds * 1000
          : o.rotationGraceMs;
      const { keys, previousExpiresAt } = await o.service.rotate(endpoint, graceMs).catch(refused);
      return reply
        .header('cache-control', 'no-store')
        .send({ ...keys, previousSecretExpiresAt: new Date(previousExpiresAt).toISOString() });
    },
  );
}

function emptyToNull(filter: Record<string, unknown> | null | undefined): Pattern | null {
  return filter === undefined || filter === null || Object.keys(filter).length === 0
    ? null
    : (filter as Pattern);
}
