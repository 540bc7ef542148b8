/**
 * The catalog's view of the schema registry: a subject version's schema, parsed, with the
 * versions it references, or undefined when the tenant has none. Only the registry's
 * public `version` method is used (it answers `references` as its HTTP API does).
 */
import { ProblemError } from '../http/problem.ts';
import type { SchemaLookup, SchemaReference } from './registered-schemas.ts';

type VersionSource = {
  version(
    tenant: string,
    subject: string,
    spec: number | 'latest',
  ): Promise<{ schema: string; references?: readonly SchemaReference[] }>;
};

export function registrySchemaLookup(registry: VersionSource): SchemaLookup {
  return async (tenant, subject, version) => {
    try {
      const found = await registry.version(tenant, subject, version);
      return {
        schema: JSON.parse(found.schema) as unknown,
        references: (found.references ?? []).map(({ name, subject: s, version: v }) => ({
          name,
          subject: s,
          version: v,
        })),
      };
    } catch (error) {
      // Absent subject or version (and an invalid version spec, which the manifest's
      // pattern already excludes) mean "no such schema"; anything else is a real failure.
      if (error instanceof ProblemError && error.status >= 400 && error.status < 500)
        return undefined;
      throw error;
    }
  };
}
