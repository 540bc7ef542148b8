import type { CandidateSet } from './candidate-set.ts';

/**
 * Numeric ranges, probed with a number: a centred interval tree, so a probe costs
 * O(log n + ranges hit) rather than a scan of every numeric rule on the field.
 */
type Range = {
  lo: number;
  loInclusive: boolean;
  hi: number;
  hiInclusive: boolean;
  alternative: number;
};

type TreeNode = {
  center: number;
  byLo: Range[]; // ranges containing the centre (as numbers), by lower bound ascending
  byHi: Range[]; // the same ranges by upper bound descending
  left: TreeNode | null; // ranges wholly below the centre
  right: TreeNode | null; // ranges wholly above it
};

export class IntervalIndex {
  readonly #ranges: Range[] = [];
  #root: TreeNode | null = null;

  add(
    lo: number,
    loInclusive: boolean,
    hi: number,
    hiInclusive: boolean,
    alternative: number,
  ): void {
    this.#ranges.push({ lo, loInclusive, hi, hiInclusive, alternative });
  }

  finalize(): void {
    this.#root = buildNode(this.#ranges);
  }

  probe(x: number, out: CandidateSet): void {
    if (x !== x) return; // NaN is in no range
    let node = this.#root;
    while (node) {
      if (x < node.center) {
        for (const r of node.byLo) {
          if (r.lo > x) break;
          if (contains(r, x)) out.add(r.alternative);
        }
        node = node.left;
      } else if (x > node.center) {
        for (const r of node.byHi) {
          if (r.hi < x) break;
          if (contains(r, x)) out.add(r.alternative);
        }
        node = node.right;
      } else {
        for (const r of node.byLo) if (contains(r, x)) out.add(r.alternative);
        return;
      }
    }
  }
}

function contains(r: Range, x: number): boolean {
  return (r.loInclusive ? x >= r.lo : x > r.lo) && (r.hiInclusive ? x <= r.hi : x < r.hi);
}

function buildNode(ranges: Range[]): TreeNode | null {
  if (ranges.length === 0) return null;
  const endpoints: number[] = [];
  for (const r of ranges) {
    if (Number.isFinite(r.lo)) endpoints.push(r.lo);
    if (Number.isFinite(r.hi)) endpoints.push(r.hi);
  }
  endpoints.sort((a, b) => a - b);
  // Every range has a finite bound, and the median endpoint lies in at least one range,
  // so each level takes at least one range and the recursion ends.
  const center = endpoints[endpoints.length >> 1] ?? 0;
  const left: Range[] = [];
  const right: Range[] = [];
  const here: Range[] = [];
  for (const r of ranges) {
    if (r.hi < center) left.push(r);
    else if (r.lo > center) right.push(r);
    else here.push(r);
  }
  return {
    center,
    byLo: [...here].sort((a, b) => a.lo - b.lo),
    byHi: [...here].sort((a, b) => b.hi - a.hi),
    left: buildNode(left),
    right: buildNode(right),
  };
}
