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
    return known ?? ajv.compile(schema as object);
  };
}
