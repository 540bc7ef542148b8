/**
 * Publish-time policy per event domain (the first segment of a type / topic), from the
 * hub's config (`registry.domains`): the platform team's rules, not a tenant's.
 *
 * - `forbidPii`: no value under a schema field marked `x-pii: true` may be published to
 *   the domain's topics.
 * - `requireSchema`: events of the domain must have a registered schema (otherwise their
 *   fields cannot be checked for PII at all).
 * - `maxRetentionSeconds`: the longest an event of the domain may ask to be kept, through
 *   the CloudEvents `expirytime` extension. An event without one is stamped with the
 *   limit, so consumers and archives know when to drop it.
 *
 * Pure functions: the publish check (publish-validation.ts) feeds them the event and what
 * schema validation found, and logs the decision.
 */
import type { FieldError } from '../http/problem.ts';

/** A domain's rules (config `registry.domains.<domain>`); absent flags are false. */
export type DomainPolicy = {
  forbidPii?: boolean;
  requireSchema?: boolean;
  maxRetentionSeconds?: number;
};

export type PolicyDecision =
  | { outcome: 'allow'; rule?: undefined; stamp?: { expirytime: string } }
  | {
      outcome: 'deny';
      rule: 'pii' | 'schema-required' | 'retention';
      detail: string;
      errors: FieldError[];
    };

/** The domain of a topic `domain.env.entity.action` (or of a type `domain.entity.action`). */
export function domainOf(topicOrType: string): string {
  const dot = topicOrType.indexOf('.');
  return dot < 0 ? topicOrType : topicOrType.slice(0, dot);
}

export type PolicyInput = {
  domain: string;
  /** The event's `expirytime` as published, and the hub's `recordedtime`. */
  expirytime: unknown;
  recordedtime: string;
  /** Whether a registered schema applied to the event. */
  hasSchema: boolean;
  /** Pointers (into `data`) of values under `x-pii: true` fields, from validation. */
  pii: readonly string[];
};

export function decide(policy: DomainPolicy, input: PolicyInput): PolicyDecision {
  if (policy.requireSchema && !input.hasSchema)
    return {
      outcome: 'deny',
      rule: 'schema-required',
      detail: `events of domain "${input.domain}" need a registered schema for their type (policy requireSchema)`,
      errors: [{ pointer: '/type', detail: 'has no registered schema; register one first' }],
    };
  if (policy.forbidPii && input.pii.length > 0)
    return {
      outcome: 'deny',
      rule: 'pii',
      detail: `fields marked x-pii may not be published to topics of domain "${input.domain}": ${input.pii
        .map((p) => `/data${p}`)
        .join(', ')}`,
      errors: input.pii.map((p) => ({
        pointer: `/data${p}`,
        detail: `is marked x-pii in the schema; domain "${input.domain}" refuses personal data`,
      })),
    };
  if (policy.maxRetentionSeconds !== undefined) return retention(policy.maxRetentionSeconds, input);
  return { outcome: 'allow' };
}

function retention(maxSeconds: number, input: PolicyInput): PolicyDecision {
  const limitMs = maxSeconds * 1000;
  const recorded = Date.parse(input.recordedtime);
  if (input.expirytime === undefined)
    return { outcome: 'allow', stamp: { expirytime: new Date(recorded + limitMs).toISOString() } };
  const deny = (detail: string): PolicyDecision => ({
    outcome: 'deny',
    rule: 'retention',
    detail: `expirytime ${detail}`,
    errors: [{ pointer: '/expirytime', detail }],
  });
  if (typeof input.expirytime !== 'string' || Number.isNaN(Date.parse(input.expirytime)))
    return deny('must be an RFC 3339 timestamp');
  // Measured from arrival, not from the event's own `time`: a producer's clock (or a
  // claimed future time) must not stretch the limit.
  const askedMs = Date.parse(input.expirytime) - recorded;
  if (askedMs > limitMs)
    return deny(
      `asks to keep the event ${Math.ceil(askedMs / 1000)} s; domain "${input.domain}" allows at most ${maxSeconds} s`,
    );
  return { outcome: 'allow' };
}
