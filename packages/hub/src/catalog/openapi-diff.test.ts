/** The OpenAPI rules one by one, on small inline documents (the fixtures cover the mix). */
import { describe, expect, it } from 'vitest';
import { openApiChanges } from './openapi-diff.ts';
import type { OpenApiDocument } from './openapi-document.ts';

type Obj = Record<string, unknown>;

const doc = (operation: Obj, extra: Obj = {}, version = '3.1.0'): OpenApiDocument => ({
  openapi: version,
  info: { title: 't', version: '1' },
  paths: { '/things/{id}': { post: operation } },
  ...extra,
});

const ok = { '200': { description: 'ok' } };
const codes = (a: OpenApiDocument, b: OpenApiDocument) =>
  openApiChanges(a, b, 'api').map((c) => `${c.severity} ${c.code}`);

describe('OpenAPI rules', () => {
  it('parameters: made required, style changed, removed, path-level overridden', () => {
    const q = (extra: Obj = {}) => ({
      name: 'q',
      in: 'query',
      schema: { type: 'string' },
      ...extra,
    });
    expect(
      codes(
        doc({ parameters: [q()], responses: ok }),
        doc({ parameters: [q({ required: true })], responses: ok }),
      ),
    ).toEqual(['breaking parameter-became-required']);
    expect(
      codes(
        doc({ parameters: [q()], responses: ok }),
        doc({ parameters: [q({ style: 'pipeDelimited' })], responses: ok }),
      ),
    ).toEqual(['breaking parameter-serialization-changed']);
    expect(codes(doc({ parameters: [q()], responses: ok }), doc({ responses: ok }))).toEqual([
      'warning parameter-removed',
    ]);
    // Header names are case-insensitive.
    const h = (name: string) => ({ name, in: 'header', schema: { type: 'string' } });
    expect(
      codes(
        doc({ parameters: [h('X-Trace')], responses: ok }),
        doc({ parameters: [h('x-trace')], responses: ok }),
      ),
    ).toEqual([]);
  });

  it('request bodies: added as required, made required, media type removed', () => {
    const body = (required: boolean, types = ['application/json']) => ({
      required,
      content: Object.fromEntries(types.map((t) => [t, { schema: { type: 'object' } }])),
    });
    expect(codes(doc({ responses: ok }), doc({ requestBody: body(true), responses: ok }))).toEqual([
      'breaking request-body-added-required',
    ]);
    expect(codes(doc({ responses: ok }), doc({ requestBody: body(false), responses: ok }))).toEqual(
      ['info request-body-added'],
    );
    expect(
      codes(
        doc({ requestBody: body(false), responses: ok }),
        doc({ requestBody: body(true), responses: ok }),
      ),
    ).toEqual(['breaking request-body-became-required']);
    expect(
      codes(
        doc({ requestBody: body(true, ['application/json', 'text/csv']), responses: ok }),
        doc({ requestBody: body(true), responses: ok }),
      ),
    ).toEqual(['breaking request-media-type-removed']);
  });

  it('responses: a removed 2xx is breaking unless its range still covers it; required headers', () => {
    expect(
      codes(
        doc({ responses: { '200': { description: 'x' }, '404': { description: 'x' } } }),
        doc({ responses: { '404': { description: 'x' } } }),
      ),
    ).toEqual(['breaking success-response-removed']);
    expect(
      codes(
        doc({ responses: { '200': { description: 'x' } } }),
        doc({ responses: { '2XX': { description: 'x' } } }),
      ),
    ).toEqual(['info response-added']);
    expect(
      codes(
        doc({ responses: { '200': { description: 'x' }, '404': { description: 'x' } } }),
        doc({ responses: ok }),
      ),
    ).toEqual(['info response-removed']);
    const withHeader = (required: boolean) => ({
      '200': { description: 'x', headers: { ETag: { required, schema: { type: 'string' } } } },
    });
    expect(codes(doc({ responses: withHeader(true) }), doc({ responses: ok }))).toEqual([
      'breaking response-header-removed',
    ]);
    expect(codes(doc({ responses: withHeader(false) }), doc({ responses: ok }))).toEqual([
      'warning response-header-removed',
    ]);
  });

  it('reads OpenAPI 3.0 nullable as a null type, in both directions', () => {
    const response = (schema: Obj) => ({
      '200': { description: 'x', content: { 'application/json': { schema } } },
    });
    const nullable = { type: 'object', properties: { n: { type: 'string', nullable: true } } };
    const plain = { type: 'object', properties: { n: { type: 'string' } } };
    // A response that may now contain null breaks clients; one that no longer does is fine.
    expect(
      codes(
        doc({ responses: response(plain) }, {}, '3.0.3'),
        doc({ responses: response(nullable) }, {}, '3.0.3'),
      ),
    ).toEqual(['breaking type-narrowed']);
    expect(
      codes(
        doc({ responses: response(nullable) }, {}, '3.0.3'),
        doc({ responses: response(plain) }, {}, '3.0.3'),
      ),
    ).toEqual([]);
  });

  it('follows $refs to components, including parameters and responses', () => {
    const components = (max: number) => ({
      components: {
        parameters: {
          Page: { name: 'page', in: 'query', schema: { type: 'integer', maximum: max } },
        },
        responses: {
          Ok: {
            description: 'x',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
        },
        schemas: {
          Thing: { type: 'object', properties: { size: { type: 'integer', maximum: max } } },
        },
      },
    });
    const op = {
      parameters: [{ $ref: '#/components/parameters/Page' }],
      responses: { '200': { $ref: '#/components/responses/Ok' } },
    };
    const changes = openApiChanges(doc(op, components(100)), doc(op, components(10)), 'api');
    // The request parameter narrowed (breaking); the response narrowed too (fine for clients).
    expect(changes.map((c) => [c.code, c.pointer])).toEqual([['maximum-decreased', '/maximum']]);
  });

  it('warns when security requirements change', () => {
    expect(
      codes(
        doc({ responses: ok, security: [{ bearer: [] }] }),
        doc({ responses: ok, security: [{ bearer: ['admin'] }] }),
      ),
    ).toEqual(['warning security-changed']);
  });
});
