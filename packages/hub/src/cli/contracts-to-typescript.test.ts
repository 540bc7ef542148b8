/**
 * The converter's own cases: names from types (clashes numbered), references that leave
 * a schema become `unknown` (nothing is fetched), a recursive schema, a null schema, and
 * nested definitions of the same name in two schemas kept apart. The output must compile.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { contractsToTypeScript } from './contracts-to-typescript.ts';

const dir = mkdtempSync(join(tmpdir(), 'portico-contracts-ts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const contract = (schema: Record<string, unknown> | null) => ({
  schema,
  publishers: ['a'],
  consumers: [],
});

function compiles(text: string): string[] {
  const file = join(dir, `t${Math.random().toString(36).slice(2)}.d.ts`);
  writeFileSync(file, text);
  const program = ts.createProgram([file], { strict: true, noEmit: true, types: [] });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('contractsToTypeScript', () => {
  it('names types after event types and numbers clashes', async () => {
    const text = await contractsToTypeScript(
      {
        events: {
          'a.b-c.d': contract({ type: 'string' }),
          'a.bC.d': contract({ type: 'number' }),
          'portal.events.type': contract(null),
        },
      },
      { source: 'test' },
    );
    expect(text).toContain('export type ABCD = string;');
    expect(text).toContain('export type ABCD2 = number;');
    expect(text).toContain('export type PortalEventsType2 = unknown;');
    expect(text).toContain('"portal.events.type": PortalEventsType2;');
    expect(text).toContain('export type PortalEventsType = keyof PortalEvents;');
    expect(compiles(text)).toEqual([]);
  });

  it('turns references out of the schema into unknown, and follows local and recursive ones', async () => {
    const text = await contractsToTypeScript(
      {
        events: {
          'x.node.added': contract({
            $id: 'https://schemas.example/node.json',
            type: 'object',
            required: ['children'],
            properties: {
              children: { type: 'array', items: { $ref: '#' } },
              owner: { $ref: 'https://schemas.example/person.json' },
              meta: { $ref: '#/definitions/Meta' },
              // Data, not a schema: a "$ref" inside an enum is left as it is.
              kind: { enum: [{ $ref: 'not-a-reference' }] },
            },
            definitions: { Meta: { type: 'object', properties: { at: { type: 'string' } } } },
          }),
          'y.node.added': contract({
            type: 'object',
            properties: { meta: { $ref: '#/definitions/Meta' } },
            definitions: { Meta: { type: 'object', properties: { on: { type: 'boolean' } } } },
          }),
        },
      },
      { source: 'test' },
    );
    expect(text).toMatch(/children: XNodeAdded\[\];/);
    expect(text).toMatch(/owner\?: unknown;/);
    expect(text).toContain(
      '(a reference the contract does not carry: https://schemas.example/person.json)',
    );
    expect(text).toMatch(/kind\?: \{\s*\$ref: "not-a-reference"\s*\};/);
    expect(text).toMatch(/export interface Meta \{\s*at\?: string;/);
    expect(text).toMatch(/export interface Meta1 \{\s*on\?: boolean;/);
    expect(compiles(text)).toEqual([]);
  });

  it("never copies a schema's tsType into the output (code from a tenant), but keeps a property of that name", async () => {
    const text = await contractsToTypeScript(
      {
        events: {
          'x.hostile.sent': contract({
            type: 'object',
            required: ['tsType'],
            properties: {
              name: {
                type: 'string',
                tsType: 'string; }\nexport declare function injected(): void;\ninterface Q {',
              },
              tsType: { type: 'integer' },
              mode: { type: 'string', enum: ['a'], tsEnumNames: ['}; declare const x: 1; //'] },
            },
          }),
        },
      },
      { source: 'test' },
    );
    expect(text).not.toContain('injected');
    expect(text).not.toContain('declare const x');
    expect(text).toMatch(/tsType: number;/);
    expect(compiles(text)).toEqual([]);
  });
});
