/**
 * A version's rate limits: token buckets per tenant, per app (the client-asserted
 * `x-portico-app` within the tenant) and per client (the token's subject within the tenant),
 * plus the daily quota per tenant. Answers with the IETF RateLimit header fields
 * (draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` and `RateLimit`).
 */
import type { Principal } from '../auth/principal.ts';
import type { Policy } from '../dictionary/index.ts';
import type { DailyQuota } from './daily-quota.ts';
import { gatewayProblems } from './gateway-problems.ts';
import type { BucketStore } from './bucket-store.ts';
import type { BucketSpec, BucketVerdict } from './token-buckets.ts';

const KINDS = ['tenant', 'app', 'client'] as const;

export async function checkRateLimits(
  buckets: BucketStore,
  quota: DailyQuota,
  policy: Policy,
  route: string,
  principal: Principal,
  app: string,
): Promise<Record<string, string>> {
  if (policy.quotaPerDay !== undefined) {
    const wait = quota.take(`${route}\0${principal.tenant}`, policy.quotaPerDay);
    if (wait !== undefined)
      throw gatewayProblems.rateLimited(
        `the daily quota of ${policy.quotaPerDay} requests for this API is used up`,
        wait,
        {},
      );
  }
  const limits = policy.rateLimit;
  if (!limits) return {};
  const ids = {
    tenant: principal.tenant,
    app: `${principal.tenant}\0${app}`,
    client: `${principal.tenant}\0${principal.subject}`,
  };
  const policies: string[] = [];
  const checks: { kind: string; key: string; spec: BucketSpec }[] = [];
  for (const kind of KINDS) {
    const spec = limits[kind];
    if (!spec) continue;
    policies.push(
      `"${kind}";q=${spec.burst};w=${Math.max(1, Math.ceil(spec.burst / spec.perSecond))}`,
    );
    checks.push({ kind, key: `${kind}\0${route}\0${ids[kind]}`, spec });
  }
  let tightest: { kind: string; verdict: BucketVerdict; burst: number } | undefined;
  let denied: { kind: string; verdict: BucketVerdict } | undefined;
  (await buckets.take(checks)).forEach((verdict, i) => {
    const { kind, spec } = checks[i]!;
    if (!verdict.allowed && !denied) denied = { kind, verdict };
    if (!tightest || verdict.remaining / spec.burst < tightest.verdict.remaining / tightest.burst)
      tightest = { kind, verdict, burst: spec.burst };
  });
  const shown = denied ?? tightest;
  const headers: Record<string, string> = { 'ratelimit-policy': policies.join(', ') };
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
