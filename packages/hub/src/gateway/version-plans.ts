/**
 * What the gateway derives from an API version before it can proxy to it (the effective
 * policy, the rate-limit plan, the route label, the sunset instant), computed once per
 * version object. The dictionary hands out the same objects until the tenant's dictionary
 * changes (a new revision loads new ones), so a WeakMap keyed by the version is exactly a
 * cache per dictionary revision, and old revisions' entries go with their objects.
 */
import type { ApiVersion, Policy } from '../dictionary/index.ts';
import { effectivePolicy, type EffectivePolicy } from './policy.ts';
import { rateLimitPlan, type RateLimitPlan } from './rate-limits.ts';

export type VersionPlan = {
  policy: EffectivePolicy;
  /** `api/version`, the metrics label and the rate-limit key part. */
  route: string;
  rateLimits: RateLimitPlan | undefined;
  /** Epoch ms from which the version is gone (-Infinity: status sunset; Infinity: never). */
  goneAt: number;
  /** Whether lifecycle headers can apply (deprecated, or dates set). */
  lifecycle: boolean;
};

export class VersionPlans {
  readonly #defaults: Policy;
  readonly #maxRequestBytes: number;
  readonly #plans = new WeakMap<ApiVersion, VersionPlan>();

  constructor(defaults: Policy, maxRequestBytes: number) {
    this.#defaults = defaults;
    this.#maxRequestBytes = maxRequestBytes;
  }

  for(apiName: string, version: ApiVersion): VersionPlan {
    let plan = this.#plans.get(version);
    if (plan) return plan;
    const policy = effectivePolicy(this.#defaults, version.policy, this.#maxRequestBytes);
    const route = `${apiName}/${version.version}`;
    plan = {
      policy,
      route,
      rateLimits: rateLimitPlan(policy, route),
      goneAt:
        version.status === 'sunset'
          ? Number.NEGATIVE_INFINITY
          : version.sunsetAt
            ? Date.parse(version.sunsetAt)
            : Number.POSITIVE_INFINITY,
      lifecycle: version.status !== 'stable' || Boolean(version.deprecatedAt || version.sunsetAt),
    };
    this.#plans.set(version, plan);
    return plan;
  }
}
