/**
 * The route schemas' validators. Query strings, path parameters and headers are text, so
 * their numbers, booleans and repeated keys are coerced from it ("limit=10", "?topic=a").
 * JSON bodies carry their own types and are not coerced: with Fastify's one coercing Ajv,
 * `false` became 0 and `null` became false, "" or 0 in a body (a PATCH with `"enabled":
 * null` disabled a rule), and in a union with null, 0 or false became null ("unlimited").
 */
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// The CommonJS default export, typed as its namespace under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

const SHARED: Options = {
  // Every failing field is reported (the problem's `errors`), not only the first.
  allErrors: true,
  useDefaults: true,
  removeAdditional: false,
  addUsedSchema: false,
};

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const text = new Ajv({ ...SHARED, coerceTypes: 'array' });
  const json = new Ajv({ ...SHARED, coerceTypes: false });
  addFormats(text);
  addFormats(json);
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? json : text;
    const id = (schema as { $id?: string }).$id;
    // Ajv refuses to compile a second schema with the same $id: reuse the first.
    const known = id === undefined ? undefined : (ajv.getSchema(id) as ValidateFunction);
    const validate = known ?? ajv.compile(schema as object);
    return httpPart === 'body' ? validate : decimalNumbersOnly(schema, validate);
  };
}

const DECIMAL = { integer: /^-?\d+$/, number: /^-?\d+(\.\d+)?$/ } as const;

type AjvError = NonNullable<ValidateFunction['errors']>[number];

/**
 * Ajv coerces text to a number the way JavaScript's `==` does: " " was 0, "1e3" 1000 and
 * "0x10" 16 (`?from=%20` replayed a tenant's whole retained log). A number in a query
 * string or path is written in decimal digits, or refused.
 */
function decimalNumbersOnly(schema: unknown, validate: ValidateFunction): ValidateFunction {
  const numeric: Array<[string, 'integer' | 'number']> = [];
  const properties = (schema as { properties?: Record<string, unknown> }).properties ?? {};
  for (const [name, property] of Object.entries(properties)) {
    const p = property as { type?: unknown; items?: { type?: unknown } };
    const type = p.type === 'array' ? p.items?.type : p.type;
    if (type === 'integer' || type === 'number') numeric.push([name, type]);
  }
  if (numeric.length === 0) return validate;
  const checked = ((data: unknown) => {
    for (const [name, type] of numeric) {
      const value = (data as Record<string, unknown> | null | undefined)?.[name];
      for (const text of Array.isArray(value) ? value : [value])
        if (typeof text === 'string' && !DECIMAL[type].test(text)) {
          const error: AjvError = {
            instancePath: `/${name}`,
            schemaPath: `#/properties/${name}/type`,
            keyword: 'type',
            params: { type },
            message: `must be ${type === 'integer' ? 'an integer' : 'a number'} in decimal digits`,
          };
          checked.errors = [error];
          return false;
        }
    }
    const valid = validate(data);
    checked.errors = validate.errors;
    return valid;
  }) as ValidateFunction;
  return checked;
}
