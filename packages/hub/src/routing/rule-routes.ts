/**
 * The Rules API: `/v1/rules` (create, list), `/v1/rules/{id}` (get, replace, delete) and
 * `/v1/rules/test`. Reads need `events:read`, writes `rules:write`; platform rules need
 * `admin`. A tenant never sees another tenant's rules: they are 404, as absent ones.
 */
import { Type } from '@sinclair/typebox';
import { hasScope, type Principal } from '../auth/principal.ts';
import type { HubServer } from '../http/server.ts';
import { problems, type FieldError } from '../http/problem.ts';
import type { TargetRegistry } from '../delivery/target-registry.ts';
import { explainMatch, type Pattern } from './pattern/index.ts';
import type { ActiveRules } from './active-rules.ts';
import { RuleLimitError, RuleNameTakenError, type RuleStore } from './rule-store.ts';
import {
  PLATFORM,
  tenantOf,
  tenantOwner,
  type Owner,
  type Rule,
  type RuleInput,
  type RuleLimits,
} from './rule.ts';
import { canSee, ownerFor } from './owner-scope.ts';
import { validatePatternField, validateTargets } from './validate-rule.ts';

const Target = Type.Object(
  {
    kind: Type.String({ description: 'queue | push | webhook (or a kind registered by the hub)' }),
    queue: Type.Optional(Type.String({ description: 'kind queue: the queue name' })),
    channel: Type.Optional(Type.String({ description: 'kind push: the push channel' })),
    endpointId: Type.Optional(Type.String({ description: 'kind webhook: the endpoint id' })),
    ordered: Type.Optional(Type.Boolean({ description: 'Deliver in order per partition key' })),
    inputTransform: Type.Optional(
      Type.Object({ paths: Type.Record(Type.String(), Type.String()), template: Type.String() }),
    ),
    retry: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

const RuleView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  scope: Type.Union([Type.Literal('tenant'), Type.Literal('platform')]),
  tenant: Type.Optional(Type.String()),
  enabled: Type.Boolean(),
  pattern: Type.Unknown({ description: 'EventBridge event pattern over the whole CloudEvent' }),
  targets: Type.Array(Target),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  revision: Type.Integer(),
  warnings: Type.Optional(
    Type.Array(Type.String(), {
      description: 'Things that work differently from what one may expect',
    }),
  ),
});

const NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';

function ruleBody(limits: RuleLimits, withScope: boolean) {
  return Type.Object(
    {
      name: Type.String({
        pattern: NAME,
        description: 'Unique per tenant: letters, digits, ".", "_", "-"',
      }),
      description: Type.Optional(Type.String({ maxLength: 1024, default: '' })),
      enabled: Type.Optional(Type.Boolean({ default: true })),
      scope: Type.Optional(
        Type.Union([Type.Literal('tenant'), Type.Literal('platform')], {
          description: withScope
            ? '"platform" (scope admin) for a rule over every tenant\'s events'
            : 'A rule keeps its scope; if given it must be unchanged',
        }),
      ),
      pattern: Type.Unknown({ description: 'EventBridge event pattern over the whole CloudEvent' }),
      targets: Type.Optional(
        Type.Array(Type.Unknown(), {
          maxItems: limits.maxTargetsPerRule,
          default: [],
          description: 'See Target',
        }),
      ),
    },
    { additionalProperties: false },
  );
}

type Body = {
  name: string;
  description?: string;
  enabled?: boolean;
  scope?: 'tenant' | 'platform';
  pattern: unknown;
  targets?: unknown[];
};

export function registerRuleRoutes(
  server: HubServer,
  deps: { store: RuleStore; active: ActiveRules; registry: TargetRegistry; limits: RuleLimits },
): void {
  const { store, active, registry, limits } = deps;
  const idParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
  const tags = ['rules'];

  function present(rule: Rule) {
    const warnings = rule.targets.flatMap((t, i) =>
      registry.sender(t.kind)
        ? []
        : [
            `targets/${i}: no sender is registered for kind "${t.kind}" yet; its deliveries are stored and wait until one is`,
          ],
    );
    const tenant = tenantOf(rule.owner);
    return {
      id: rule.id,
      name: rule.name,
      description: rule.description,
      scope: rule.owner === PLATFORM ? ('platform' as const) : ('tenant' as const),
      ...(tenant !== undefined ? { tenant } : {}),
      enabled: rule.enabled,
      pattern: rule.pattern,
      targets: rule.targets,
      createdAt: new Date(rule.createdAt).toISOString(),
      updatedAt: new Date(rule.updatedAt).toISOString(),
      revision: rule.revision,
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }

  /** Everything about the body that the schema cannot say, all problems at once. */
  function toInput(body: Body): RuleInput {
    const errors: FieldError[] = validatePatternField(body.pattern, limits);
    const { targets, errors: targetErrors } = validateTargets(body.targets ?? [], registry);
    errors.push(...targetErrors);
    if (errors.length > 0) {
      const first = errors[0]!;
      throw problems.validation(`the rule is invalid: ${first.pointer} ${first.detail}`, errors);
    }
    return {
      name: body.name,
      description: body.description ?? '',
      enabled: body.enabled ?? true,
      pattern: body.pattern as Pattern,
      targets,
    };
  }

  /** A rule the caller may see, or 404. */
  async function visible(principal: Principal, id: string): Promise<Rule> {
    const rule = await store.get(id);
    if (!rule || !canSee(principal, rule.owner)) throw problems.notFound(`no rule "${id}"`);
    return rule;
  }

  function writable(principal: Principal, owner: Owner): void {
    if (owner === PLATFORM && !hasScope(principal, 'admin'))
      throw problems.forbidden('platform rules need the scope "admin"');
  }

  const conflicts = (error: unknown, name: string): never => {
    if (error instanceof RuleNameTakenError)
      throw problems.conflict(
        `a rule named "${name}" already exists here; names are unique per tenant`,
      );
    if (error instanceof RuleLimitError)
      throw problems.conflict(`the limit of ${error.limit} rules is reached; delete a rule first`, {
        limit: error.limit,
      });
    throw error;
  };

  server.post(
    '/v1/rules',
    {
      config: { scope: 'rules:write' },
      schema: {
        summary: 'Create a rule',
        description:
          'A tenant rule matches only its tenant\'s events. `"scope": "platform"` (scope admin) creates a rule over every tenant\'s events.',
        tags,
        body: ruleBody(limits, true),
        response: { 201: RuleView },
      },
    },
    async (request, reply) => {
      const body = request.body as Body;
      const owner = body.scope === 'platform' ? PLATFORM : tenantOwner(request.principal.tenant);
      writable(request.principal, owner);
      const input = toInput(body);
      const rule = await store
        .create(owner, input, limits.maxRulesPerOwner)
        .catch((e: unknown) => conflicts(e, input.name));
      await active.reload();
      return reply.code(201).header('location', `/v1/rules/${rule.id}`).send(present(rule));
    },
  );

  server.get(
    '/v1/rules',
    {
      config: { scope: 'events:read' },
      schema: {
        summary: "List the tenant's rules (or the platform's, scope admin), by name",
        tags,
        querystring: Type.Object({
          scope: Type.Optional(Type.Union([Type.Literal('tenant'), Type.Literal('platform')])),
          tenant: Type.Optional(
            Type.String({ minLength: 1, description: 'Another tenant (admin only)' }),
          ),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` of the previous page' })),
        }),
        response: {
          200: Type.Object({ rules: Type.Array(RuleView), next: Type.Optional(Type.String()) }),
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const owner = ownerFor(request.principal, request.query);
      const rules = await store.list(owner, {
        limit: limit + 1,
        ...(after !== undefined ? { after } : {}),
      });
      const page = rules.slice(0, limit);
      const last = page[page.length - 1];
      return {
        rules: page.map(present),
        ...(rules.length > limit && last ? { next: last.name } : {}),
      };
    },
  );

  server.get(
    '/v1/rules/:id',
    {
      config: { scope: 'events:read' },
      schema: { summary: 'One rule', tags, params: idParams, response: { 200: RuleView } },
    },
    async (request) => present(await visible(request.principal, request.params.id)),
  );

  server.put(
    '/v1/rules/:id',
    {
      config: { scope: 'rules:write' },
      schema: {
        summary:
          'Replace a rule (deliveries already routed keep the targets they were routed with)',
        tags,
        params: idParams,
        body: ruleBody(limits, false),
        response: { 200: RuleView },
      },
    },
    async (request) => {
      const body = request.body as Body;
      const existing = await visible(request.principal, request.params.id);
      writable(request.principal, existing.owner);
      const scope = existing.owner === PLATFORM ? 'platform' : 'tenant';
      if (body.scope !== undefined && body.scope !== scope)
        throw problems.validation(
          `a rule keeps its scope ("${scope}"); create a new rule instead`,
          [{ pointer: '/scope', detail: `must be "${scope}" (or omitted)` }],
        );
      const input = toInput(body);
      const rule = await store
        .update(existing.owner, existing.id, input)
        .catch((e: unknown) => conflicts(e, input.name));
      if (!rule) throw problems.notFound(`no rule "${request.params.id}"`);
      await active.reload();
      return present(rule);
    },
  );

  server.delete(
    '/v1/rules/:id',
    {
      config: { scope: 'rules:write' },
      schema: {
        summary: 'Delete a rule (deliveries already routed still complete)',
        tags,
        params: idParams,
      },
    },
    async (request, reply) => {
      const existing = await visible(request.principal, request.params.id);
      writable(request.principal, existing.owner);
      if (!(await store.delete(existing.owner, existing.id)))
        throw problems.notFound(`no rule "${request.params.id}"`);
      await active.reload();
      return reply.code(204).send();
    },
  );

  server.post(
    '/v1/rules/test',
    {
      config: { scope: 'events:read' },
      schema: {
        summary:
          'Whether a pattern matches an event, and why not (like EventBridge TestEventPattern)',
        description:
          "Tests the pattern alone: a stored tenant rule additionally requires the event's tenantid to be its tenant.",
        tags,
        body: Type.Object(
          {
            pattern: Type.Unknown(),
            event: Type.Record(Type.String(), Type.Unknown(), {
              description: 'A CloudEvent in structured JSON',
            }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ matches: Type.Boolean(), reasons: Type.Array(Type.String()) }),
        },
      },
    },
    async (request) => {
      const { pattern, event } = request.body as {
        pattern: unknown;
        event: Record<string, unknown>;
      };
      const errors = validatePatternField(pattern, limits);
      if (errors.length > 0)
        throw problems.validation(
          `the pattern is invalid: ${errors[0]!.pointer} ${errors[0]!.detail}`,
          errors,
        );
      return explainMatch(pattern as Pattern, event);
    },
  );
}
