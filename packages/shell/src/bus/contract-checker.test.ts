import { describe, expect, it } from 'vitest';
import { createContractChecker } from './contract-checker.ts';
import type { EventContracts } from './contracts.ts';

const event = (type: string, data: unknown, from?: string) => ({
  type,
  data,
  time: new Date(0).toISOString(),
  ...(from !== undefined && { from }),
});

describe('createContractChecker', () => {
  it("follows the schema's dialect: draft-07 array items, 2020-12 prefixItems", () => {
    const checker = createContractChecker({
      'geo.point.picked': {
        schema: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'array',
          items: [{ type: 'number' }, { type: 'number' }],
        },
        publishers: ['map'],
      },
      'geo.line.drawn': {
        schema: {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'array',
          prefixItems: [{ type: 'number' }, { type: 'number' }],
        },
        publishers: ['map'],
      },
    });
    expect(checker.check(event('geo.point.picked', [1, 2], 'map'))).toBeUndefined();
    expect(checker.check(event('geo.point.picked', [1, 'x'], 'map'))?.errors).toEqual([
      { pointer: '/1', detail: expect.stringMatching(/Expected "number"/) },
    ]);
    expect(checker.check(event('geo.line.drawn', ['x', 2], 'map'))?.errors).toEqual([
      { pointer: '/0', detail: expect.stringMatching(/Expected "number"/) },
    ]);
  });

  it('escapes pointers into keys with / and ~', () => {
    const checker = createContractChecker({
      'cfg.key.set': {
        schema: { type: 'object', additionalProperties: { type: 'string' } },
        publishers: ['cfg'],
      },
    });
    expect(checker.check(event('cfg.key.set', { 'a/b~c': 1 }, 'cfg'))?.errors).toEqual([
      { pointer: '/a~1b~0c', detail: expect.stringMatching(/Expected "string"/) },
    ]);
  });

  it('reports a schema it cannot use instead of throwing', () => {
    const checker = createContractChecker({
      'odd.thing.happened': { schema: { $ref: '#/$defs/missing' }, publishers: ['odd'] },
    });
    const violation = checker.check(event('odd.thing.happened', {}, 'odd'));
    expect(violation?.errors).toEqual([
      { pointer: '', detail: expect.stringMatching(/^the catalog's schema cannot be used: /) },
    ]);
  });

  it('takes publishers that are not a list of names as none, without throwing', () => {
    const checker = createContractChecker({
      'incident.ticket.selected': { schema: null, publishers: 'incidents-admin' },
      'incident.ticket.closed': { schema: null, publishers: { incidents: true } },
      'incident.ticket.moved': { schema: null, publishers: [42, 'incidents'] },
    } as unknown as EventContracts);
    expect(checker.check(event('incident.ticket.selected', {}, 'incidents'))?.errors).toEqual([
      {
        pointer: '',
        detail:
          '"incidents" is not a catalog publisher of incident.ticket.selected (publishers: none)',
      },
    ]);
    expect(checker.check(event('incident.ticket.closed', {}, 'incidents'))?.errors).toHaveLength(1);
    expect(checker.check(event('incident.ticket.moved', {}, 'incidents'))).toBeUndefined();
  });

  it('does not take inherited keys for event types', () => {
    const checker = createContractChecker({});
    expect(checker.check(event('constructor', {}))?.errors[0]?.detail).toMatch(
      /is not an event type of the catalog/,
    );
  });
});
