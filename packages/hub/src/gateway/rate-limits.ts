/**
 * A version's rate limits: token buckets per tenant, per app (the client-asserted
 * `x-portico-app` within the tenant) and per client (the token's subject within the tenant),
 * plus the daily quota per tenant. Answers with the IETF RateLimit header fields
 * (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` and `RateLimit`).
 */
import type { Principal } from '../auth/principal.ts';
import { MIN_PER_SECOND, type Policy } from '../dictionary/index.ts';
import type { DailyQuota } from './daily-quota.ts';
import { gatewayProblems } from './gateway-problems.ts';
import type { BucketStore } from './bucket-store.ts';
import type { BucketSpec, BucketVerdict } from './token-buckets.ts';

const KINDS = ['tenant', 'app', 'client'] as const;
type Kind = (typeof KINDS)[number];

/** What a version's limits need per request, derived once per version (version-plans.ts). */
export type RateLimitPlan = {
  route: string;
  quotaPerDay: number | undefined;
  /** The `RateLimit-Policy` field value. */
  policyHeader: string;
  limits: { kind: Kind; spec: BucketSpec; keyPrefix: string }[];
  /**
   * The bucket keys last built per principal (verified principals are reused per token) and
   * the app they were built for: no key strings built, and no hashes computed, per request.
   */
  checks: WeakMap<Principal, { app: string; checks: BucketCheck[] }>;
};

type BucketCheck = { key: string; spec: BucketSpec };

export function rateLimitPlan(policy: Policy, route: string): RateLimitPlan | undefined {
  const limits: RateLimitPlan['limits'] = [];
  const policies: string[] = [];
  for (const kind of KINDS) {
    const stored = policy.rateLimit?.[kind];
    if (!stored) continue;
    // Dictionaries stored before the minimum was checked may hold a slower (even denormal)
    // refill: held to the minimum here, where it is divided by.
    const spec = { ...stored, perSecond: Math.max(stored.perSecond, MIN_PER_SECOND) };
    policies.push(
      `"${kind}";q=${spec.burst};w=${Math.max(1, Math.ceil(spec.burst / spec.perSecond))}`,
    );
    limits.push({ kind, spec, keyPrefix: `${kind}\0${route}\0` });
  }
  if (limits.length === 0 && policy.quotaPerDay === undefined) return undefined;
  return {
    route,
    quotaPerDay: policy.quotaPerDay,
    policyHeader: policies.join(', '),
    limits,
    checks: new WeakMap(),
  };
}

/**
 * Spends from the plan's quota and buckets, or throws a 429 problem. Returns the headers to
 * send; synchronously when the buckets are in memory (no extra turn of the event loop).
 */
export function checkRateLimits(
  buckets: BucketStore,
  quota: DailyQuota,
  plan: RateLimitPlan,
  principal: Principal,
  app: string,
): Record<string, string> | Promise<Record<string, string>> {
  // The buckets first: a request they refuse spends none of the day's quota (a client
  // retrying a 429 in a loop must not use up its tenant's day). One the quota refuses has
  // spent bucket tokens, which no longer matter: the quota refuses every request until
  // the day ends.
  if (plan.limits.length === 0) {
    takeQuota(quota, plan, principal);
    return {};
  }
  const verdicts = buckets.take(bucketChecks(plan, principal, app));
  if (!Array.isArray(verdicts))
    return verdicts.then((v) => {
      const headers = verdictHeaders(plan, v);
      takeQuota(quota, plan, principal);
      return headers;
    });
  const headers = verdictHeaders(plan, verdicts);
  takeQuota(quota, plan, principal);
  return headers;
}

/** Counts the request against the daily quota, or throws the 429 when it is used up. */
function takeQuota(quota: DailyQuota, plan: RateLimitPlan, principal: Principal): void {
  if (plan.quotaPerDay === undefined) return;
  const wait = quota.take(`${plan.route}\0${principal.tenant}`, plan.quotaPerDay);
  if (wait !== undefined)
    throw gatewayProblems.rateLimited(
      `the daily quota of ${plan.quotaPerDay} requests for this API is used up`,
      wait,
      {},
    );
}

function bucketChecks(plan: RateLimitPlan, principal: Principal, app: string): BucketCheck[] {
  const known = plan.checks.get(principal);
  if (known?.app === app) return known.checks;
  const checks = plan.limits.map(({ kind, spec, keyPrefix }) => ({
    // The same string object every time: its hash is computed once, by the first lookup.
    key:
      keyPrefix +
      (kind === 'tenant'
        ? principal.tenant
        : `${principal.tenant}\0${kind === 'app' ? app : principal.subject}`),
    spec,
  }));
  plan.checks.set(principal, { app, checks });
  return checks;
}

function verdictHeaders(plan: RateLimitPlan, verdicts: BucketVerdict[]): Record<string, string> {
  let tightest: { kind: Kind; verdict: BucketVerdict; burst: number } | undefined;
  let denied: { kind: Kind; verdict: BucketVerdict } | undefined;
  verdicts.forEach((verdict, i) => {
    const { kind, spec } = plan.limits[i]!;
    if (!verdict.allowed && !denied) denied = { kind, verdict };
    if (!tightest || verdict.remaining / spec.burst < tightest.verdict.remaining / tightest.burst)
      tightest = { kind, verdict, burst: spec.burst };
  });
  const shown = denied ?? tightest;
  const headers: Record<string, string> = { 'ratelimit-policy': plan.policyHeader };
  if (shown)
    headers.ratelimit = `"${shown.kind}";r=${shown.verdict.remaining};t=${shown.verdict.resetSeconds}`;
  if (denied)
    throw gatewayProblems.rateLimited(
      `the ${denied.kind} rate limit of this API is exceeded; retry after ${denied.verdict.retryAfterSeconds} s`,
      denied.verdict.retryAfterSeconds,
      headers,
    );
  return headers;
}
