/**
 * A per-endpoint rate limit: a token bucket refilled at `ratePerSecond`, holding at most
 * one second's worth (so an idle endpoint gets a burst of at most its rate).
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly #capacity: number;
  #tokens: number;
  #at: number;

  constructor(ratePerSecond: number, now: number) {
    this.ratePerSecond = ratePerSecond;
    this.#capacity = Math.max(1, ratePerSecond);
    this.#tokens = this.#capacity;
    this.#at = now;
  }

  /** Takes a token and returns 0, or returns how many ms until one is there (taking nothing). */
  take(now: number): number {
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.ratePerSecond) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSecond));
  }
}
