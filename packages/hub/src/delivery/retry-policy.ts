/**
 * When to try a failed delivery again, and when to give up. A policy is either a list of
 * delays (a fixed schedule such as Standard Webhooks') or an exponential backoff between
 * a base and a cap; either way with full jitter by default (AWS "Exponential Backoff And
 * Jitter": a uniform delay in [0, d] spreads a herd of retries best).
 */

export type RetryPolicy = {
  /** Delays (ms) before the 2nd, 3rd, … attempt. When set, `baseDelayMs`/`maxDelayMs` are unused. */
  delaysMs?: readonly number[];
  /** Exponential backoff: the delay before attempt n+1 is min(maxDelayMs, baseDelayMs · 2^(n-1)). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Total attempts, the first included. With `delaysMs` and no explicit value: delays + 1. */
  maxAttempts: number;
  /** No retry is scheduled later than this after the delivery was routed (or replayed). */
  maxAgeMs: number;
  /** `full`: uniform in [0, delay]; `none`: the delay as computed. */
  jitter: 'full' | 'none';
};

/** Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (standardwebhooks.com). */
export const STANDARD_WEBHOOKS_DELAYS_MS: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  14 * 3_600_000,
  20 * 3_600_000,
  24 * 3_600_000,
];

/** For kinds that say nothing: about 8 attempts over a few minutes, given up after a day. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  maxAttempts: 8,
  maxAgeMs: 24 * 3_600_000,
  jitter: 'full',
};

/** A per-target override as written in a rule (seconds, as everywhere in the HTTP API). */
export type RetryOverride = {
  maxAttempts?: number;
  delaysSeconds?: number[];
  baseDelaySeconds?: number;
  maxDelaySeconds?: number;
  maxAgeSeconds?: number;
  jitter?: 'full' | 'none';
};

/** The kind's policy with a rule target's override applied on top. */
export function resolvePolicy(base: RetryPolicy, override: RetryOverride | undefined): RetryPolicy {
  if (!override) return base;
  const policy: RetryPolicy = { ...base };
  if (override.delaysSeconds !== undefined) {
    policy.delaysMs = override.delaysSeconds.map((s) => Math.round(s * 1000));
    policy.maxAttempts = policy.delaysMs.length + 1;
  }
  if (override.baseDelaySeconds !== undefined || override.maxDelaySeconds !== undefined) {
    delete policy.delaysMs;
    if (override.baseDelaySeconds !== undefined)
      policy.baseDelayMs = Math.round(override.baseDelaySeconds * 1000);
    if (override.maxDelaySeconds !== undefined)
      policy.maxDelayMs = Math.round(override.maxDelaySeconds * 1000);
  }
  if (override.maxAttempts !== undefined) policy.maxAttempts = override.maxAttempts;
  if (override.maxAgeSeconds !== undefined)
    policy.maxAgeMs = Math.round(override.maxAgeSeconds * 1000);
  if (override.jitter !== undefined) policy.jitter = override.jitter;
  return policy;
}

/** The delay before the next attempt after `attemptsMade` attempts (≥ 1), before jitter. */
export function backoffMs(policy: RetryPolicy, attemptsMade: number): number {
  if (policy.delaysMs && policy.delaysMs.length > 0) {
    // Past the end of the list (maxAttempts raised above it), the last delay repeats.
    const i = Math.min(attemptsMade - 1, policy.delaysMs.length - 1);
    return policy.delaysMs[i] ?? 0;
  }
  // 2^(n-1) overflows to Infinity for silly n; min() keeps it at the cap.
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
}

export type RetryDecision =
  { retry: true; delayMs: number } | { retry: false; reason: 'max-attempts' | 'max-age' };

/**
 * After a failed attempt: retry (and when) or give up. `retryAfterMs` from the target
 * replaces the backoff (the receiver knows best), but never beyond the maximum age.
 */
export function decideRetry(
  policy: RetryPolicy,
  state: { attemptsMade: number; ageMs: number; retryAfterMs?: number | undefined },
  random: () => number = Math.random,
): RetryDecision {
  if (state.attemptsMade >= policy.maxAttempts) return { retry: false, reason: 'max-attempts' };
  let delayMs: number;
  if (state.retryAfterMs !== undefined && Number.isFinite(state.retryAfterMs)) {
    delayMs = Math.max(0, state.retryAfterMs);
  } else {
    const d = backoffMs(policy, state.attemptsMade);
    delayMs = policy.jitter === 'full' ? Math.floor(random() * (d + 1)) : d;
  }
  if (state.ageMs + delayMs > policy.maxAgeMs) return { retry: false, reason: 'max-age' };
  return { retry: true, delayMs };
}
