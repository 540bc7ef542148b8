/**
 * Crafted worst cases: rule sets one tenant with `rules:write` can store within the caps
 * (1000 rules, 16 KiB of pattern each, 1024 alternatives per pattern, the pattern caps of
 * routing/pattern/validate.ts), each against one crafted event of at most 256 KiB, as the
 * router matches it (the parsed event, the tenant condition added to every pattern).
 * Prints the CPU milliseconds one match takes per case; the aim is ~100 ms or less.
 *
 *   node_modules/.bin/node bench/match/crafted.ts [case-name-substring]
 */
import {
  RuleMatcher,
  validatePattern,
  type Pattern,
} from '../../packages/hub/src/routing/pattern/index.ts';

const RULES = 1000;
const PATTERN_BYTES = 16 * 1024;
const EVENT_BYTES = 256 * 1024;
const TENANT = 'crafty';

/**
 * Fills patterns of at most PATTERN_BYTES from `items`, `wrap` turning a list of items into
 * one pattern, until RULES patterns are full or the items run out.
 */
function pack(items: Iterable<unknown>, wrap: (list: unknown[]) => Pattern): Pattern[] {
  const patterns: Pattern[] = [];
  let list: unknown[] = [];
  const bytes = (p: Pattern) => Buffer.byteLength(JSON.stringify(p));
  for (const item of items) {
    if (patterns.length === RULES) break;
    list.push(item);
    if (bytes(wrap(list)) > PATTERN_BYTES) {
      list.pop();
      patterns.push(wrap(list));
      list = [item];
    }
  }
  if (list.length > 0 && patterns.length < RULES) patterns.push(wrap(list));
  return patterns;
}

/** Each list as one `$or` of single-matcher branches: an alternative per item. */
const asOr =
  (branch: (item: unknown) => Pattern) =>
  (list: unknown[]): Pattern =>
    list.length === 1 ? branch(list[0]) : { $or: list.map(branch) };

/** (head length, tail length) pairs by total length, both at least 1. */
function* lengthPairs(): Generator<[number, number]> {
  for (let total = 2; ; total++) for (let h = 1; h < total; h++) yield [h, total - h];
}

function* map<T, U>(items: Iterable<T>, f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

function take<T>(n: number, items: Iterable<T>): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (out.length === n) break;
    out.push(item);
  }
  return out;
}

function* counting(from = 0): Generator<number> {
  for (let i = from; ; i++) yield i;
}

const a = (n: number) => 'a'.repeat(n);

/** An event of about EVENT_BYTES whose `data` is built around `fill` characters to spare. */
function event(data: (room: number) => unknown): Record<string, unknown> {
  const envelope = { specversion: '1.0', id: '1', source: '/x', type: 'x.y.z', tenantid: TENANT };
  const room = EVENT_BYTES - Buffer.byteLength(JSON.stringify({ ...envelope, data: {} })) - 64;
  return { ...envelope, data: data(room) };
}

/** `[x, x, …, last]` of about `room` bytes as JSON. */
function fillArray(x: unknown, last: unknown, room: number): unknown[] {
  const each = Buffer.byteLength(JSON.stringify(x)) + 1;
  const items = new Array<unknown>(Math.floor(room / each) - 2).fill(x);
  items.push(last);
  return items;
}

type Case = {
  name: string;
  patterns: Pattern[];
  event: Record<string, unknown>;
  /** Long to build (hundreds of thousands of alternatives): run only when named on the command line. */
  slow?: boolean;
};

const cases: (() => Case)[] = [
  () => ({
    name: 'all-hit H*T wildcards, one value list per rule',
    patterns: pack(
      map(lengthPairs(), ([h, t]) => ({ wildcard: `${a(h)}*${a(t)}` })),
      (list) => ({ data: { v: list } }),
    ),
    event: event((room) => ({ v: a(room - 8) })),
  }),
  () => ({
    name: 'all-hit H*T wildcards, an $or branch per value',
    patterns: pack(
      map(lengthPairs(), ([h, t]) => ({ wildcard: `${a(h)}*${a(t)}` })),
      asOr((w) => ({ data: { v: [w] } })),
    ),
    event: event((room) => ({ v: a(room - 8) })),
  }),
  () => ({
    name: 'all-hit H*T wildcards, a rule per value',
    patterns: take(
      RULES,
      map(lengthPairs(), ([h, t]) => ({ data: { v: [{ wildcard: `${a(h)}*${a(t)}` }] } })),
    ),
    event: event((room) => ({ v: a(room - 8) })),
  }),
  () => ({
    name: 'all-hit H*T wildcards + a second condition that fails, an $or branch per value',
    patterns: pack(
      map(lengthPairs(), ([h, t]) => ({ wildcard: `${a(h)}*${a(t)}` })),
      asOr((w) => ({ data: { v: [w], w: ['no'] } })),
    ),
    event: event((room) => ({ v: a(room - 20), w: 'yes' })),
  }),
  () => ({
    name: 'all-hit H*M*T wildcards (a middle segment), an $or branch per value',
    patterns: pack(
      map(lengthPairs(), ([h, t]) => ({ wildcard: `${a(h)}*a*${a(t)}` })),
      asOr((w) => ({ data: { v: [w] } })),
    ),
    event: event((room) => ({ v: a(room - 8) })),
  }),
  () => ({
    name: 'H*b*T wildcards whose middle is missing, an $or branch per value',
    patterns: pack(
      map(lengthPairs(), ([h, t]) => ({ wildcard: `${a(h)}*b*${a(t)}` })),
      asOr((w) => ({ data: { v: [w] } })),
    ),
    event: event((room) => ({ v: a(room - 8) })),
  }),
  () => ({
    name: 'all-hit prefixes, one value list per rule',
    patterns: pack(
      map(counting(1), (n) => ({ prefix: a(n) })),
      (list) => ({ data: { v: list } }),
    ),
    event: event((room) => ({ v: a(room - 8) })),
  }),
  () => ({
    name: 'all-hit prefixes, an $or branch per value',
    patterns: pack(
      map(counting(1), (n) => ({ prefix: a(n) })),
      asOr((p) => ({ data: { v: [p] } })),
    ),
    event: event((room) => ({ v: a(room - 8) })),
  }),
  () => ({
    name: 'all-hit prefixes + a second condition that fails, an $or branch per value',
    patterns: pack(
      map(counting(1), (n) => ({ prefix: a(n) })),
      asOr((p) => ({ data: { v: [p], w: ['no'] } })),
    ),
    event: event((room) => ({ v: a(room - 20), w: 'yes' })),
  }),
  () => ({
    name: 'same condition over 65k array leaves, one candidate per rule',
    patterns: map2(RULES, (i) => ({ data: { k: ['v', `k${i}`], items: [{ numeric: ['>', 0] }] } })),
    event: event((room) => ({ k: 'v', items: fillArray(0, 0, room - 64) })),
  }),
  () => ({
    name: 'distinct conditions over 65k array leaves, one candidate per rule',
    patterns: map2(RULES, (i) => ({ data: { k: ['v'], items: [{ numeric: ['>', i / 1e4] }] } })),
    event: event((room) => ({ k: 'v', items: fillArray(0, 0, room - 64) })),
  }),
  () => ({
    name: 'distinct conditions over 65k array leaves, an $or branch per value',
    slow: true,
    patterns: pack(
      map(counting(1), (i) => ({ numeric: ['>', i / 1e6] })),
      asOr((m) => ({ data: { k: ['v'], items: [m] } })),
    ),
    event: event((room) => ({ k: 'v', items: fillArray(0, 0, room - 64) })),
  }),
  () => ({
    name: 'distinct conditions on two fields of one 65k-element array (array consistency), one candidate per rule',
    patterns: map2(RULES, (i) => ({
      data: { k: ['v'], items: { x: [{ numeric: ['>', -1 - i / 1e4] }], y: [0] } },
    })),
    event: event((room) => ({ k: 'v', items: fillArray({ x: 0 }, { x: 0, y: 0 }, room - 64) })),
  }),
  () => ({
    name: 'distinct *M* wildcards over 29k distinct array values, one candidate per rule',
    patterns: map2(RULES, (i) => ({ data: { k: ['v'], items: [{ wildcard: `*-${i}-*` }] } })),
    event: event((room) => ({
      k: 'v',
      items: take(Math.floor(room / 9), map(counting(), String)),
    })),
  }),
  () => ({
    name: "another tenant's rules (distinct conditions) over its 65k array leaves",
    patterns: map2(RULES, (i) => ({ data: { k: ['v'], items: [{ numeric: ['>', i / 1e4] }] } })),
    event: {
      ...event((room) => ({ k: 'v', items: fillArray(0, 0, room - 64) })),
      tenantid: 'victim',
    },
  }),
  () => ({
    name: 'exists:false over 65k array leaves, one candidate per rule',
    patterns: map2(RULES, (i) => ({
      data: { k: ['v', `k${i}`], items: { x: [{ exists: false }], y: [0] } },
    })),
    event: event((room) => ({ k: 'v', items: fillArray({ x: 0 }, { y: 0 }, room - 64) })),
  }),
];

function map2(n: number, f: (i: number) => Pattern): Pattern[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const only = process.argv[2];
console.log('| case | rules | alternatives | ms per match (CPU, best of 3) | matches |');
console.log('|---|---:|---:|---:|---:|');
for (const make of cases) {
  const c = make();
  if (only ? !c.name.includes(only) : c.slow) {
    if (c.slow && !only)
      console.log(
        `| ${c.name} | (not run by default: 282k alternatives take long to build; name it to run it) | | | |`,
      );
    continue;
  }
  let alternatives = 0;
  for (const p of c.patterns) {
    const bytes = Buffer.byteLength(JSON.stringify(p));
    const problems = validatePattern(p);
    if (bytes > PATTERN_BYTES || problems.length > 0)
      throw new Error(
        `${c.name}: a pattern over the caps (${bytes} bytes; ${JSON.stringify(problems[0])})`,
      );
    alternatives += Math.max(1, (p['$or'] as unknown[] | undefined)?.length ?? 1);
  }
  const matcher = RuleMatcher.build(
    c.patterns.map((p, i) => ({ id: `r${i}`, pattern: { ...p, tenantid: [TENANT] } })),
  );
  let best = Infinity;
  let matches = 0;
  for (let pass = 0; pass < 3; pass++) {
    const start = cpuNow();
    matches = matcher.match(c.event).length;
    best = Math.min(best, cpuNow() - start);
    if (best > 5_000) break; // one slow pass says enough
  }
  console.log(
    `| ${c.name} | ${c.patterns.length} | ${alternatives.toLocaleString('en-US')} | ${best.toFixed(1)} | ${matches} |`,
  );
}
