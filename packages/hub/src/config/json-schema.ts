import { ConfigSchema } from './schema.ts';

/**
 * The JSON Schema of what a `portico.config.json` may hold, for editors
 * (`portico config schema`). ConfigSchema describes the configuration once defaults are
 * filled in, so every key with a default is listed as required; a file may leave those out,
 * so here they are not required.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(optionalDefaults(structuredClone(ConfigSchema)) as Record<string, unknown>),
  };
}

function optionalDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(optionalDefaults);
  if (typeof node !== 'object' || node === null) return node;
  const schema = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(schema))
    // `default` and `const` are values, not schemas: leave them as they are.
    if (key !== 'default' && key !== 'const') schema[key] = optionalDefaults(value);
  const properties = schema.properties as Record<string, { default?: unknown }> | undefined;
  if (properties && Array.isArray(schema.required)) {
    const required = (schema.required as string[]).filter(
      (name) => properties[name]?.default === undefined,
    );
    if (required.length > 0) schema.required = required;
    else delete schema.required;
  }
  return schema;
}
