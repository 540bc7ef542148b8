/**
 * The PII publish-time policy of a tenant: no value under a schema field marked
 * `x-pii: true` may be published to a topic of the listed domains (a topic is
 * `domain.env.entity.action`; the domain is its first segment).
 */
import { Type, type Static } from '@sinclair/typebox';

export const PII_POLICY = 'pii';

export const PiiPolicySchema = Type.Object(
  {
    forbiddenDomains: Type.Array(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 }), {
      maxItems: 200,
      uniqueItems: true,
      description: 'Domains whose topics must never carry a value of a field marked x-pii: true',
    }),
    requireSchema: Type.Boolean({
      default: false,
      description:
        'Also refuse events in those domains whose type has no registered schema (their fields cannot be checked)',
    }),
  },
  { additionalProperties: false },
);

export type PiiPolicy = Static<typeof PiiPolicySchema>;

/** The domain of a topic `domain.env.entity.action`. */
export function domainOf(topic: string): string {
  const dot = topic.indexOf('.');
  return dot < 0 ? topic : topic.slice(0, dot);
}

export function appliesTo(policy: PiiPolicy | undefined, topic: string): policy is PiiPolicy {
  return policy !== undefined && policy.forbiddenDomains.includes(domainOf(topic));
}
