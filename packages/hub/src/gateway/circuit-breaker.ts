/**
 * One circuit per key (the gateway keys them by tenant and upstream origin). Closed: requests flow, consecutive failures are counted.
 * After `failures` in a row it opens: requests fail fast (503) for `openSeconds`. Then one
 * trial request is let through (half-open): success closes the circuit, failure re-opens it.
 */
export type BreakerSpec = { failures: number; openSeconds: number };

type Circuit = { failures: number; openUntil: number; trial: boolean };

export class CircuitBreakers {
  readonly #circuits = new Map<string, Circuit>();
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** Whether a request may go to `key` now; undefined if yes, else seconds to wait. */
  admit(key: string): number | undefined {
    const c = this.#circuits.get(key);
    if (!c || c.openUntil === 0) return undefined;
    const now = this.#clock();
    if (now < c.openUntil) return Math.ceil((c.openUntil - now) / 1000);
    if (c.trial) return 1; // half-open: one trial at a time
    c.trial = true;
    return undefined;
  }

  success(key: string): void {
    this.#circuits.delete(key);
  }

  failure(key: string, spec: BreakerSpec): void {
    const c = this.#circuits.get(key) ?? { failures: 0, openUntil: 0, trial: false };
    c.failures += 1;
    if (c.trial || c.failures >= spec.failures) {
      c.openUntil = this.#clock() + spec.openSeconds * 1000;
      c.trial = false;
    }
    this.#circuits.set(key, c);
  }

  /** Releases a half-open trial that ended neither way (e.g. the client went away). */
  release(key: string): void {
    const c = this.#circuits.get(key);
    if (c) c.trial = false;
  }

  state(key: string): 'closed' | 'open' | 'half-open' {
    const c = this.#circuits.get(key);
    if (!c || c.openUntil === 0) return 'closed';
    return this.#clock() < c.openUntil ? 'open' : 'half-open';
  }
}
