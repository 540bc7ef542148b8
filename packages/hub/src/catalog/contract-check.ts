/**
 * Compares two versions of one contract file (see contract-files.ts) with the diff that
 * fits its kind. A bare JSON Schema has no direction of its own: it is checked at
 * `level` (default BACKWARD, the registry's default).
 */
import type { CompatibilityLevel } from '../registry/compatibility/index.ts';
import { asyncApiChanges } from './asyncapi-diff.ts';
import type { ContractChange } from './contract-change.ts';
import { ContractInputError, type ContractFile } from './contract-files.ts';
import { manifestChanges } from './manifest-diff.ts';
import type { EventDeclaration } from './manifest-schema.ts';
import { openApiChanges } from './openapi-diff.ts';
import { schemaChanges } from './schema-diff.ts';

export function compareContractFiles(
  base: ContractFile,
  next: ContractFile,
  options: { level?: CompatibilityLevel } = {},
): ContractChange[] {
  if (base.kind !== next.kind)
    throw new ContractInputError(
      `${next.path} is ${article(next.kind)} but its base ${base.path} is ${article(base.kind)}: compare like with like`,
    );
  const label = next.path;
  switch (next.kind) {
    case 'openapi':
      return openApiChanges((base as typeof next).doc, next.doc, label);
    case 'asyncapi':
      return asyncApiChanges((base as typeof next).doc, next.doc, label);
    case 'json-schema':
      return schemaChanges(
        (base as typeof next).schema,
        next.schema,
        options.level ?? 'BACKWARD',
        `json-schema ${label}`,
      );
    case 'manifest': {
      const changes: ContractChange[] = [];
      // Offline, a registry subject cannot be read: same reference, same schema.
      const inline = (e: EventDeclaration) => (typeof e.schema === 'string' ? undefined : e.schema);
      const previous = (base as typeof next).manifest;
      for (const direction of ['publishes', 'consumes'] as const)
        for (const e of next.manifest.events?.[direction] ?? []) {
          const old = previous.events?.[direction]?.find((p) => p.type === e.type);
          if (
            e.schemaRef !== undefined &&
            old?.schemaRef !== undefined &&
            old.schemaRef !== e.schemaRef
          )
            changes.push({
              severity: 'warning',
              code: 'schema-ref-not-compared',
              location: `app ${next.manifest.name}: event ${e.type}`,
              detail: `schemaRef ${old.schemaRef} became ${e.schemaRef}; use --against <hub> to compare registered schemas`,
            });
        }
      if (previous.name !== next.manifest.name)
        throw new ContractInputError(
          `${next.path} is app "${next.manifest.name}" but ${base.path} is app "${previous.name}"`,
        );
      return [
        ...changes,
        ...manifestChanges(previous, next.manifest, { previous: inline, next: inline }),
      ];
    }
  }
}

function article(kind: ContractFile['kind']): string {
  return {
    openapi: 'an OpenAPI document',
    asyncapi: 'an AsyncAPI document',
    'json-schema': 'a JSON Schema',
    manifest: 'an app manifest',
  }[kind];
}
