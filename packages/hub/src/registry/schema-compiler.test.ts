/**
 * The compiler's resolution of references to other subjects: each schema of the tree reads
 * the versions it names, whatever their `$id`s, anchors and embedded resources.
 */
import { describe, expect, it } from 'vitest';
import { pinnedKey } from './compatibility/index.ts';
import { SchemaCompiler } from './schema-compiler.ts';
import type { ReferencedSchema } from './validation-references.ts';

const compiler = new SchemaCompiler();
const ref = (name: string, subject: string, version: number) => ({ name, subject, version });
const version = (
  name: string,
  subject: string,
  n: number,
  schema: unknown,
  references: ReturnType<typeof ref>[] = [],
): ReferencedSchema => ({ name, key: pinnedKey(subject, n), schema, references });
const pointers = (result: { errors: { pointer: string }[] }) =>
  result.errors.map((e) => e.pointer).sort();

describe('references to other subjects at validation', () => {
  const D = 'https://x.example/defs.json';
  /** Two versions of one subject with the same `$id`, an anchor and an embedded resource. */
  const defs = (type: string) => ({
    $id: D,
    $defs: { n: { type, $anchor: 'num' }, r: { $id: 'rel.json', type } },
  });

  it('versions sharing an $id: each schema reads its own, anchors and embedded ids too', () => {
    const user = {
      $id: 'https://x.example/user.json',
      properties: { n: { $ref: `${D}#num` }, r: { $ref: 'defs.json#/$defs/r' } },
    };
    const compiled = compiler.compile(
      { properties: { mine: { $ref: `${D}#num` }, theirs: { $ref: 'user' } } },
      '2020-12',
      {
        // Listed after "user", whose own reference of the same name means version 1.
        references: [ref('user', 'X.User', 1), ref(D, 'X.Defs', 2)],
        loaded: [
          version('user', 'X.User', 1, user, [ref(D, 'X.Defs', 1)]),
          version(D, 'X.Defs', 1, defs('string')),
          version(D, 'X.Defs', 2, defs('integer')),
        ],
      },
    );
    expect(pointers(compiled.validate({ mine: 1, theirs: { n: 's', r: 's' } }))).toEqual([]);
    expect(pointers(compiled.validate({ mine: 's', theirs: { n: 1, r: 1 } }))).toEqual([
      '/mine',
      '/theirs/n',
      '/theirs/r',
    ]);
  });

  it('a referenced $id of its own: fragments, anchors and another spelling of the URI', () => {
    const compiled = compiler.compile(
      {
        properties: {
          a: { $ref: 'HTTPS://X.example/defs.json#/$defs/n' },
          b: { $ref: `${D}#num` },
        },
      },
      '2020-12',
      { references: [ref(D, 'x.defs', 1)], loaded: [version(D, 'x.defs', 1, defs('number'))] },
    );
    expect(pointers(compiled.validate({ a: 1, b: 2 }))).toEqual([]);
    expect(pointers(compiled.validate({ a: 'x', b: 'y' }))).toEqual(['/a', '/b']);
  });

  it('a reference named like the schema’s own $id is still refused, not a loop', () => {
    const name = 'https://schemas.example.com/chain.json';
    expect(() =>
      compiler.compile({ $id: name, anyOf: [{ $ref: name }, { type: 'integer' }] }, '2020-12', {
        references: [ref(name, 'tmp.chain', 1)],
        loaded: [version(name, 'tmp.chain', 1, { $id: name, type: 'string' })],
      }),
    ).toThrow(/already exists/);
  });
});

describe('a $ref that reaches itself without going into the value', () => {
  const leftRecursive = { anyOf: [{ type: 'integer' }, { $ref: '#' }] };

  it('is refused at registration, with why', () => {
    expect(() => compiler.compile(leftRecursive, '2020-12')).toThrow(
      /a \$ref reaches itself without going into the value/,
    );
  });

  it('stored before that, fails the value it cannot check instead of throwing', () => {
    // (draft-07: its anyOf stops at the first branch that holds; 2020-12's tries them all.)
    const compiled = compiler.compile(leftRecursive, 'draft-07', undefined, { stored: true });
    expect(compiled.validate(3).errors).toEqual([]);
    const result = compiled.validate('text');
    expect(result.errors).toEqual([
      { pointer: '', detail: expect.stringMatching(/^cannot be checked: a \$ref reaches itself/) },
    ]);
    // Recursion that goes into the value is fine.
    const tree = { properties: { next: { $ref: '#' } }, required: ['v'] };
    expect(compiler.compile(tree, '2020-12').validate({ v: 1, next: { v: 2 } }).errors).toEqual([]);
  });
});
