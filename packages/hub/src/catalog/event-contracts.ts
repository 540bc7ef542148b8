/**
 * `GET /v1/catalog/contracts`: each event type the tenant's apps publish or consume, with
 * the apps on either side and the one JSON Schema of its `data` that a browser bus (or
 * `portico types`) should hold it to.
 */
import type { StoredApp } from './catalog-store.ts';
import type { EventDeclaration } from './manifest-schema.ts';

export type EventContract = {
  schema: Record<string, unknown> | null;
  publishers: string[];
  consumers: string[];
};

export type EventContracts = { events: Record<string, EventContract> };

export type ContractSchemas = {
  /** The registry's latest schema of the subject named after the type, if registered. */
  registered: ReadonlyMap<string, unknown>;
  /** A manifest declaration's schema (inline, or its `schemaRef` already looked up). */
  declared: (event: EventDeclaration) => unknown;
};

/**
 * Which schema wins: the registry's (the hub validates publishes against it), else the
 * first publisher's declaration (apps in name order), else the first consumer's, else null.
 */
export function buildEventContracts(
  apps: readonly StoredApp[],
  schemas: ContractSchemas,
): EventContracts {
  const byType = new Map<
    string,
    { publishers: string[]; consumers: string[]; published: unknown; consumed: unknown }
  >();
  const entry = (type: string) => {
    let e = byType.get(type);
    if (!e) {
      e = { publishers: [], consumers: [], published: undefined, consumed: undefined };
      byType.set(type, e);
    }
    return e;
  };
  const sorted = [...apps].sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
  for (const { manifest } of sorted) {
    for (const event of manifest.events?.publishes ?? []) {
      const e = entry(event.type);
      e.publishers.push(manifest.name);
      e.published ??= schemas.declared(event);
    }
    for (const event of manifest.events?.consumes ?? []) {
      const e = entry(event.type);
      e.consumers.push(manifest.name);
      e.consumed ??= schemas.declared(event);
    }
  }
  const events: Record<string, EventContract> = {};
  for (const type of [...byType.keys()].sort()) {
    const e = byType.get(type)!;
    events[type] = {
      schema: asSchemaObject(schemas.registered.get(type) ?? e.published ?? e.consumed),
      publishers: e.publishers,
      consumers: e.consumers,
    };
  }
  return { events };
}

/** Boolean schemas become their object forms, so clients only ever see an object or null. */
function asSchemaObject(schema: unknown): Record<string, unknown> | null {
  if (schema === true) return {};
  if (schema === false) return { not: {} };
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema))
    return schema as Record<string, unknown>;
  return null;
}
