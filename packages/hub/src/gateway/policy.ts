/** A version's effective policy: the configured defaults, overridden field by field. */
import type { Policy } from '../dictionary/index.ts';

export type EffectivePolicy = Policy & {
  timeoutMs: number;
  retries: number;
  maxRequestBytes: number;
};

export function effectivePolicy(
  defaults: Policy,
  own: Policy | undefined,
  maxRequestBytes: number,
): EffectivePolicy {
  const merged: Policy = { ...defaults, ...own };
  return {
    ...merged,
    timeoutMs: merged.timeoutMs ?? 10_000,
    retries: merged.retries ?? 0,
    // A policy may lower the gateway's buffer limit, never raise it.
    maxRequestBytes: Math.min(merged.maxRequestBytes ?? maxRequestBytes, maxRequestBytes),
  };
}

/** All the policy's scopes; `admin` implies every one. */
export function missingScopes(policy: Policy, held: ReadonlySet<string>): string[] {
  if (held.has('admin')) return [];
  return (policy.scopes ?? []).filter((s) => !held.has(s));
}
