/** Rules as stored and as the API shows them. */
import type { Pattern } from './pattern/index.ts';
import type { InputTransform } from '../delivery/input-transform.ts';
import type { RetryOverride } from '../delivery/retry-policy.ts';

/**
 * Who owns a rule, encoded in one string: `tenant:<id>` (sees only that tenant's events)
 * or `platform` (created with scope `admin`; may span tenants).
 */
export type Owner = string;
export const PLATFORM: Owner = 'platform';
export const tenantOwner = (tenant: string): Owner => `tenant:${tenant}`;
export const tenantOf = (owner: Owner): string | undefined =>
  owner.startsWith('tenant:') ? owner.slice('tenant:'.length) : undefined;

/**
 * A rule's target, as written in the API: `kind`, the kind's destination field
 * (`queue`, `channel`, `endpointId`, …) and the common options.
 */
export type RuleTarget = {
  kind: string;
  ordered?: boolean;
  inputTransform?: InputTransform;
  retry?: RetryOverride;
  [destinationField: string]: unknown;
};

export type Rule = {
  id: string;
  owner: Owner;
  name: string;
  description: string;
  enabled: boolean;
  pattern: Pattern;
  targets: RuleTarget[];
  createdAt: number;
  updatedAt: number;
  /** Incremented by every update. */
  revision: number;
};

export type RuleInput = Pick<Rule, 'name' | 'description' | 'enabled' | 'pattern' | 'targets'>;

export type RuleLimits = {
  /** Rules one tenant (or the platform) may own. */
  maxRulesPerOwner: number;
  maxTargetsPerRule: number;
  /** Size of the pattern as compact JSON, bytes. */
  maxPatternBytes: number;
};

export const DEFAULT_RULE_LIMITS: RuleLimits = {
  maxRulesPerOwner: 1000,
  maxTargetsPerRule: 10,
  maxPatternBytes: 16 * 1024,
};
