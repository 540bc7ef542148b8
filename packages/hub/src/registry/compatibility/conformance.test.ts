/**
 * Apicurio's JSON Schema compatibility set (vendored in ./conformance, Apache-2.0), run
 * with the peers' semantics; Portico's deliberate differences are pinned separately.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBackward, type CompatibilityOptions } from './index.ts';

type Expected = 'backward' | 'both' | 'none';
type Case = {
  id: string;
  enabled?: boolean;
  compatibility: Expected;
  original: unknown;
  updated: unknown;
};

const dataFile = fileURLToPath(
  new URL('./conformance/apicurio-json-schema-compatibility.json', import.meta.url),
);
const cases = (JSON.parse(readFileSync(dataFile, 'utf8')) as { tests: Case[] }).tests;
const named = cases.map((c, i) => ({ ...c, name: `#${i} ${c.id}` }));
const enabled = named.filter((c) => c.enabled !== false);
const disabled = named.filter((c) => c.enabled === false);

/** The peers refuse a new optional property in an open content model. */
const PEER: CompatibilityOptions = { allowOptionalPropertyInOpenModel: false };

/** Cases where Portico's default deliberately differs (DECISIONS.md lists them with reasons). */
const PORTICO_DIFFERENCES: Record<string, Expected> = {
  'Object: properties 1': 'both',
  'Object: schemaDependencies 1': 'both',
  'Issue 4965-O2': 'both',
};

function decide(c: Case, options?: CompatibilityOptions): Expected | 'forward' {
  // Backward: the updated schema reads what the original wrote. Forward: the other way round.
  const backward = checkBackward(c.updated, c.original, options).length === 0;
  const forward = checkBackward(c.original, c.updated, options).length === 0;
  if (backward) return forward ? 'both' : 'backward';
  return forward ? 'forward' : 'none';
}

describe('Apicurio conformance set, peer semantics', () => {
  const passed: string[] = [];
  afterAll(() => {
    console.log(
      `conformance: ${passed.length}/${enabled.length} enabled cases pass (${cases.length} in the file)`,
    );
  });

  it('holds every case of the file', () => {
    expect(cases.length).toBe(145);
    expect(enabled.length + disabled.length).toBe(cases.length);
  });

  it.each(enabled)('$name is $compatibility', (c) => {
    expect(decide(c, PEER)).toBe(c.compatibility);
    passed.push(c.name);
  });

  it('reports how Portico decides the disabled (disputed) cases, without asserting', () => {
    for (const c of disabled) {
      console.log(
        `disabled ${c.name}: expected upstream ${c.compatibility}, Portico says ${decide(c, PEER)}`,
      );
    }
  });
});

describe("Portico's default options on the same set", () => {
  it.each(Object.entries(PORTICO_DIFFERENCES))(
    '%s differs deliberately: Portico says %s',
    (id, portico) => {
      const c = enabled.find((e) => e.id === id);
      expect(c, `case "${id}" is in the file`).toBeDefined();
      expect(decide(c!, PEER)).toBe(c!.compatibility);
      expect(decide(c!)).toBe(portico);
    },
  );

  it('agrees with the peers on every other enabled case', () => {
    const others = enabled.filter((c) => !(c.id in PORTICO_DIFFERENCES));
    const disagreements = others.filter((c) => decide(c) !== c.compatibility).map((c) => c.name);
    expect(disagreements).toEqual([]);
  });
});
