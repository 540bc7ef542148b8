/**
 * The catalog's view of the schema registry: a subject version's schema, parsed, or
 * undefined when the tenant has none. Only the registry's public `version` method is used.
 */
import { ProblemError } from '../http/problem.ts';
import type { SchemaLookup } from './catalog-service.ts';

type VersionSource = {
  version(tenant: string, subject: string, spec: number | 'latest'): Promise<{ schema: string }>;
};

export function registrySchemaLookup(registry: VersionSource): SchemaLookup {
  return async (tenant, subject, version) => {
    try {
      return JSON.parse((await registry.version(tenant, subject, version)).schema) as unknown;
    } catch (error) {
      // Absent subject or version (and an invalid version spec, which the manifest's
      // pattern already excludes) mean "no such schema"; anything else is a real failure.
      if (error instanceof ProblemError && error.status >= 400 && error.status < 500)
        return undefined;
      throw error;
    }
  };
}
