/**
 * Changes between two versions of one app's manifest (both inline), as its consumers see
 * them:
 *
 * - APIs: an API removed is breaking; each API kept is compared as OpenAPI (openapi-diff.ts).
 * - Events it publishes: no longer published is breaking; the payload schema is the app's
 *   output, so old consumers must read new events (FORWARD). A schema dropped is a
 *   warning (consumers lose the contract), a schema added is information.
 * - Events it consumes: the schema is what the app reads, so it must accept what producers
 *   already send (BACKWARD); no longer consuming breaks nobody (information).
 * - Identity, UI entry, scopes, SLAs: information (a new scope needs a grant: warning).
 */
import type { CompatibilityOptions } from '../registry/compatibility/index.ts';
import type { ContractChange } from './contract-change.ts';
import type { AppManifest, EventDeclaration } from './manifest-schema.ts';
import { openApiChanges } from './openapi-diff.ts';
import type { OpenApiDocument } from './openapi-document.ts';
import { schemaChanges } from './schema-diff.ts';

export type SchemaOf = (event: EventDeclaration) => unknown;

/**
 * `compare.budget`: the schema checker's work budget for the whole comparison (one per
 * request, so that many schemas together are bounded as one is); by default one per schema
 * pair. `compare.resolveExternalRef`: how payload schemas' references to other registry
 * subjects resolve (the hub's; offline there is none, see schema-diff.ts).
 */
export function manifestChanges(
  previous: AppManifest,
  next: AppManifest,
  schemaOf: { previous: SchemaOf; next: SchemaOf },
  compare: Pick<CompatibilityOptions, 'budget' | 'resolveExternalRef'> = {},
): ContractChange[] {
  const { budget } = compare;
  const out: ContractChange[] = [];
  const app = `app ${next.name}`;

  const nextApis = new Map((next.apis ?? []).map((a) => [a.name, a]));
  for (const old of previous.apis ?? []) {
    const now = nextApis.get(old.name);
    if (!now) {
      out.push({
        severity: 'breaking',
        code: 'api-removed',
        location: `${app}: api ${old.name}`,
        detail: 'the app no longer provides this API',
      });
      continue;
    }
    out.push(
      ...openApiChanges(
        old.openapi as OpenApiDocument,
        now.openapi as OpenApiDocument,
        `${next.name}/${old.name}`,
        budget,
      ),
    );
  }
  for (const api of next.apis ?? [])
    if (!(previous.apis ?? []).some((a) => a.name === api.name))
      out.push({
        severity: 'info',
        code: 'api-added',
        location: `${app}: api ${api.name}`,
        detail: 'a new API',
      });

  for (const direction of ['publishes', 'consumes'] as const) {
    const verb = direction === 'publishes' ? 'published' : 'consumed';
    const nextEvents = new Map((next.events?.[direction] ?? []).map((e) => [e.type, e]));
    for (const old of previous.events?.[direction] ?? []) {
      const where = `${app}: ${verb} event ${old.type}`;
      const now = nextEvents.get(old.type);
      if (!now) {
        out.push(
          direction === 'publishes'
            ? {
                severity: 'breaking',
                code: 'event-no-longer-published',
                location: where,
                detail: 'consumers of this event will no longer receive it from this app',
              }
            : {
                severity: 'info',
                code: 'event-no-longer-consumed',
                location: where,
                detail: 'the app stops consuming it',
              },
        );
        continue;
      }
      const before = schemaOf.previous(old);
      const after = schemaOf.next(now);
      if (before === undefined) {
        if (after !== undefined)
          out.push({
            severity: 'info',
            code: 'schema-declared',
            location: where,
            detail: 'the event now has a schema',
          });
        continue;
      }
      if (after === undefined) {
        out.push({
          severity: 'warning',
          code: 'schema-dropped',
          location: where,
          detail: 'the event no longer declares a schema (or its registry subject is not found)',
        });
        continue;
      }
      out.push(
        ...schemaChanges(
          before,
          after,
          direction === 'publishes' ? 'writes' : 'reads',
          `${where} payload`,
          compare,
        ),
      );
    }
    for (const e of next.events?.[direction] ?? [])
      if (!(previous.events?.[direction] ?? []).some((p) => p.type === e.type))
        out.push({
          severity: 'info',
          code: `event-${direction === 'publishes' ? 'published' : 'consumed'}`,
          location: `${app}: ${verb} event ${e.type}`,
          detail: `newly ${verb}`,
        });
  }

  const newScopes = (next.scopes ?? []).filter((s) => !(previous.scopes ?? []).includes(s));
  if (newScopes.length > 0)
    out.push({
      severity: 'warning',
      code: 'scopes-added',
      location: `${app}: scopes`,
      detail: `the app now needs ${newScopes.join(', ')}: make sure it is granted before release`,
    });
  for (const field of ['domain', 'owner', 'ui', 'slas'] as const)
    if (JSON.stringify(previous[field] ?? null) !== JSON.stringify(next[field] ?? null))
      out.push({
        severity: 'info',
        code: `${field}-changed`,
        location: `${app}: ${field}`,
        detail: `${field} changed`,
      });
  return out;
}
