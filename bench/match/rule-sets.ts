import type { Pattern } from '../../packages/hub/src/routing/pattern/index.ts';
import { BLOCKS, LOTS_PER_BLOCK, STREETS, blockNumber, lotNumber } from './citylots.ts';
import { pick, seededRandom } from './random.ts';

/**
 * The rule sets of the benchmark. Per kind: five rules, shaped like event-ruler's
 * citylots benchmark rules. Mixed: n rules of every kind with random parameters, each on
 * a specific lot, block or street, so that (as in a real portal) most rules do not match
 * most events.
 */

const props = (fields: Record<string, unknown>): Pattern => ({ properties: fields });

export const RULES_BY_KIND: Record<string, Pattern[]> = {
  exact: [
    props({ MAPBLKLOT: ['1430022'] }),
    props({ MAPBLKLOT: ['2607117'] }),
    props({ MAPBLKLOT: ['2607018'] }),
    props({ MAPBLKLOT: ['3745012'] }),
    props({ MAPBLKLOT: ['VACSTWIL'] }),
  ],
  prefix: [
    props({ STREET: [{ prefix: 'AC' }] }),
    props({ STREET: [{ prefix: 'BL' }] }),
    props({ STREET: [{ prefix: 'DR' }] }),
    props({ STREET: [{ prefix: 'FU' }] }),
    props({ STREET: [{ prefix: 'RH' }] }),
  ],
  suffix: [
    props({ STREET: [{ suffix: 'ON' }] }),
    props({ STREET: [{ suffix: 'KE' }] }),
    props({ STREET: [{ suffix: 'MM' }] }),
    props({ STREET: [{ suffix: 'ING' }] }),
    props({ STREET: [{ suffix: 'GO' }] }),
  ],
  'equals-ignore-case': [
    props({ STREET: [{ 'equals-ignore-case': 'jefferson' }] }),
    props({ STREET: [{ 'equals-ignore-case': 'bEaCh' }] }),
    props({ STREET: [{ 'equals-ignore-case': 'HyDe' }] }),
    props({ STREET: [{ 'equals-ignore-case': 'CHESTNUT' }] }),
    props({ ST_TYPE: [{ 'equals-ignore-case': 'st' }] }),
  ],
  wildcard: [
    props({ MAPBLKLOT: [{ wildcard: '143*' }] }),
    props({ MAPBLKLOT: [{ wildcard: '2*0*1*7' }] }),
    props({ MAPBLKLOT: [{ wildcard: '*218' }] }),
    props({ MAPBLKLOT: [{ wildcard: '3*5*2' }] }),
    props({ MAPBLKLOT: [{ wildcard: 'VA*IL' }] }),
  ],
  'anything-but': [
    props({ STREET: [{ 'anything-but': ['FULTON'] }] }),
    props({ STREET: [{ 'anything-but': ['MASON'] }] }),
    props({ ST_TYPE: [{ 'anything-but': ['ST'] }] }),
    { geometry: { type: [{ 'anything-but': ['Polygon'] }] } },
    props({ FROM_ST: [{ 'anything-but': ['441'] }] }),
  ],
  numeric: [
    {
      geometry: {
        type: ['Polygon'],
        firstCoordinates: { x: [{ numeric: ['=', -122.42916360922355] }] },
      },
    },
    { geometry: { type: ['MultiPolygon'], firstCoordinates: { z: [{ numeric: ['=', 0] }] } } },
    { geometry: { firstCoordinates: { x: [{ numeric: ['<', -122.41600944012424] }] } } },
    { geometry: { firstCoordinates: { x: [{ numeric: ['>', -122.41600944012424] }] } } },
    {
      geometry: {
        firstCoordinates: { x: [{ numeric: ['>', -122.46471267081272, '<', -122.4063085128395] }] },
      },
    },
  ],
  exists: [
    props({ ST_TYPE: [{ exists: true }] }),
    props({ ST_TYPE: [null] }),
    props({ NOT_THERE: [{ exists: false }] }),
    props({ FROM_ST: [{ exists: true }], TO_ST: [{ exists: true }] }),
    { geometry: { firstCoordinates: { z: [{ exists: false }] } } },
  ],
  'numeric on coordinates (array of 30-60 numbers)': [
    { geometry: { coordinates: [{ numeric: ['=', -122.42916360922355] }] } },
    { geometry: { coordinates: [{ numeric: ['>', 37.79, '<', 37.8] }] } },
    { geometry: { coordinates: [{ numeric: ['<', -122.5] }] } },
    { geometry: { coordinates: [{ numeric: ['>', -122.41, '<', -122.4] }] } },
    { geometry: { type: ['MultiPolygon'], coordinates: [{ numeric: ['>', 37.75, '<', 37.76] }] } },
  ],
};

const randomBlock = (random: () => number) => blockNumber(1 + Math.floor(random() * BLOCKS));
const randomLot = (random: () => number) => lotNumber(1 + Math.floor(random() * LOTS_PER_BLOCK));

/**
 * `count` rules cycling through eight shapes (exact, prefix, suffix, equals-ignore-case,
 * wildcard, anything-but, numeric, exists + `$or`).
 * - "block": each rule is about a block or a street, as a portal's rules are about a type
 *   or a tenant: with 100k rules an event has a few matches and a dozen near misses.
 * - "lot": each rule is about one lot, so matches stay rare however many rules there are;
 *   this isolates the cost of the index itself.
 */
export function mixedRules(
  count: number,
  seed: number,
  pin: 'block' | 'lot' = 'block',
): { id: string; pattern: Pattern }[] {
  const random = seededRandom(seed);
  const rules: { id: string; pattern: Pattern }[] = [];
  for (let i = 0; i < count; i++) {
    const block = randomBlock(random);
    const lot = randomLot(random);
    const street = pick(random, STREETS);
    const x = -122.515 + random() * 0.16;
    const digit = Math.floor(random() * 10);
    const side = random() < 0.5 ? 'E' : 'O';
    rules.push({ id: `rule-${i}`, pattern: pin === 'block' ? blockRule(i % 8) : lotRule(i % 8) });

    function blockRule(shape: number): Pattern {
      switch (shape) {
        case 0: // exact: one lot
          return props({ MAPBLKLOT: [block + lot] });
        case 1: // prefix: the lots of one block on one side of the street
          return props({ MAPBLKLOT: [{ prefix: block }], ODD_EVEN: [side] });
        case 2: // suffix: a lot number on a given street
          return props({ LOT_NUM: [{ suffix: lot.slice(1) }], STREET: [street] });
        case 3: // equals-ignore-case: a street within a block
          return props({
            STREET: [{ 'equals-ignore-case': street.toLowerCase() }],
            BLOCK_NUM: [block],
          });
        case 4: // wildcard: lots of a block ending in a digit
          return props({ MAPBLKLOT: [{ wildcard: `${block}*${digit}` }] });
        case 5: // anything-but: a block, except plain streets
          return props({ BLOCK_NUM: [block], ST_TYPE: [{ 'anything-but': ['ST', 'AVE'] }] });
        case 6: // numeric: a block within a longitude band
          return {
            properties: { BLOCK_NUM: [block] },
            geometry: { firstCoordinates: { x: [{ numeric: ['>', x, '<=', x + 0.05] }] } },
          };
        default: // exists and $or: a lot without a street type, or one street's even side in a block
          return {
            $or: [
              props({ MAPBLKLOT: [block + lot], ST_TYPE: [{ exists: false }] }),
              props({ BLOCK_NUM: [block], STREET: [street], ODD_EVEN: ['E'] }),
            ],
          };
      }
    }

    function lotRule(shape: number): Pattern {
      switch (shape) {
        case 0:
          return props({ MAPBLKLOT: [block + lot] });
        case 1:
          return props({ BLKLOT: [{ prefix: block + lot }], ODD_EVEN: [side] });
        case 2:
          return props({ MAPBLKLOT: [{ suffix: block.slice(2) + lot }], STREET: [street] });
        case 3:
          return props({
            STREET: [{ 'equals-ignore-case': street.toLowerCase() }],
            BLKLOT: [block + lot],
          });
        case 4:
          return props({ MAPBLKLOT: [{ wildcard: `${block}*${lot}` }] });
        case 5:
          return props({ MAPBLKLOT: [block + lot], ST_TYPE: [{ 'anything-but': ['ST', 'AVE'] }] });
        case 6:
          return {
            properties: { BLKLOT: [block + lot] },
            geometry: { firstCoordinates: { x: [{ numeric: ['>', x, '<=', x + 0.05] }] } },
          };
        default:
          return {
            $or: [
              props({ MAPBLKLOT: [block + lot], ST_TYPE: [{ exists: false }] }),
              props({ BLKLOT: [block + lot], STREET: [street] }),
            ],
          };
      }
    }
  }
  return rules;
}
