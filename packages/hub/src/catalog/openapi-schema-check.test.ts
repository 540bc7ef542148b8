/**
 * openApiProblems with reused schema validators must answer exactly what one
 * `SwaggerParser.validate` call answers, document after document.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { openApiProblems, parserProblems } from './openapi-document.ts';
import { OpenApiSchemaCheck } from './openapi-schema-check.ts';

const ok = { '200': { description: 'ok' } };
const docs: Record<string, object> = {
  'valid 3.0': { openapi: '3.0.3', info: { title: 'a', version: '1' }, paths: {} },
  'valid 3.1, recursive schema': {
    openapi: '3.1.0',
    info: { title: 'a', version: '1' },
    paths: {
      '/n': {
        get: {
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        Node: { type: 'object', properties: { next: { $ref: '#/components/schemas/Node' } } },
      },
    },
  },
  '3.0 without info.version, bad parameter': {
    openapi: '3.0.3',
    info: { title: 'a' },
    paths: { '/a': { get: { parameters: [{ name: 'x', in: 'body' }], responses: ok } } },
  },
  '3.1 with an unknown field and a bad response': {
    openapi: '3.1.0',
    info: { title: 'a', version: '1' },
    colour: 'red',
    paths: { '/a': { get: { responses: { '200': { content: 3 } } } } },
  },
  // Only invalid once the reference is followed (the schema step sees the dereferenced document).
  '3.1 referring to an invalid parameter': {
    openapi: '3.1.0',
    info: { title: 'a', version: '1' },
    paths: {
      '/a': { get: { parameters: [{ $ref: '#/components/parameters/P' }], responses: ok } },
    },
    components: { parameters: { P: { name: 'p', in: 'nowhere' } } },
  },
  '3.0 with a dangling reference': {
    openapi: '3.0.3',
    info: { title: 'a', version: '1' },
    paths: { '/a': { get: { parameters: [{ $ref: '#/nope' }], responses: ok } } },
  },
};

async function stock(doc: object): Promise<unknown> {
  try {
    await SwaggerParser.validate(
      structuredClone(doc) as never,
      { resolve: { file: false, http: false, external: false } } as never,
    );
    return [];
  } catch (error) {
    return parserProblems(error as Error, '/api');
  }
}

describe('OpenAPI checks with reused schema validators', { timeout: 60_000 }, () => {
  it('give the problems SwaggerParser.validate gives, call after call', async () => {
    const reused = new OpenApiSchemaCheck();
    const invalid = new Set<string>();
    for (const round of [1, 2])
      for (const [name, doc] of Object.entries(docs)) {
        const expected = await stock(doc);
        expect({ name, round, problems: await openApiProblems(doc, '/api', reused) }).toEqual({
          name,
          round,
          problems: expected,
        });
        if ((expected as unknown[]).length > 0) invalid.add(name);
      }
    expect([...invalid].sort()).toEqual(
      Object.keys(docs)
        .filter((n) => !n.startsWith('valid'))
        .sort(),
    );
  });
});
