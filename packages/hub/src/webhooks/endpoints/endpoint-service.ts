/**
 * Endpoint life cycle, kept in step with its routing rule. An endpoint is one rule
 * (`webhook-endpoint.<id>`, owned by the tenant) whose pattern is the endpoint's types
 * and filter and whose one target is the endpoint; enabling or disabling the endpoint
 * enables or disables the rule; deleting it deletes the rule. Writes go endpoint row
 * first, rule second; `reconcile()` (at start) repairs what a crash in between left.
 */
import { randomBytes } from 'node:crypto';
import type { RuleStore } from '../../routing/rule-store.ts';
import { DEFAULT_RULE_LIMITS, tenantOwner, type RuleInput } from '../../routing/rule.ts';
import { generateEd25519KeyPair, generateSecret } from '../signing/index.ts';
import { ed25519PublicKeyOf } from '../signing/index.ts';
import type { DisabledReason, Endpoint, EndpointSecrets, KeySet } from './endpoint.ts';
import type { EndpointChanges, EndpointStore } from './endpoint-store.ts';
import { endpointPattern } from './event-types.ts';

export const RULE_NAME_PREFIX = 'webhook-endpoint.';
/** Rotations remembered at most (older ones are dropped even if their grace runs). */
const MAX_PREVIOUS_KEYS = 5;

export type NewEndpoint = Pick<
  Endpoint,
  | 'url'
  | 'description'
  | 'eventTypes'
  | 'filter'
  | 'enabled'
  | 'rateLimitPerSecond'
  | 'concurrency'
  | 'ed25519'
>;

/** What is shown once: at creation and at each rotation. */
export type RevealedKeys = { secret: string; ed25519PublicKey?: string };

export type EndpointServiceOptions = {
  store: EndpointStore;
  rules: { store: RuleStore; reload(): Promise<void> };
  /** Called after every write to an endpoint (drop cached copies). */
  changed(id: string): void;
  /** Called once when an endpoint goes from enabled to disabled by the hub itself. */
  onAutoDisabled(endpoint: Endpoint, reason: DisabledReason, now: number): Promise<void>;
  logger?: { warn(obj: object, msg: string): void };
  clock?: () => number;
};

export class EndpointService {
  readonly #o: EndpointServiceOptions;
  readonly #clock: () => number;

  constructor(options: EndpointServiceOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  async create(
    tenant: string,
    input: NewEndpoint,
  ): Promise<{ endpoint: Endpoint; keys: RevealedKeys }> {
    const now = this.#clock();
    const keys = newKeySet(input.ed25519);
    const endpoint: Endpoint = {
      id: newEndpointId(),
      tenant,
      ...input,
      disabledReason: input.enabled ? null : 'manual',
      disabledAt: input.enabled ? null : now,
      secrets: { current: keys, previous: [] },
      ruleId: null,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.#o.store.insert(endpoint);
    try {
      const rule = await this.#o.rules.store.create(
        tenantOwner(tenant),
        ruleInput(endpoint),
        DEFAULT_RULE_LIMITS.maxRulesPerOwner,
      );
      endpoint.ruleId = rule.id;
      await this.#o.store.update(endpoint.id, { ruleId: rule.id }, now);
    } catch (error) {
      await this.#o.store.delete(endpoint.id);
      throw error;
    }
    await this.#o.rules.reload();
    return { endpoint, keys: reveal(keys) };
  }

  async update(endpoint: Endpoint, changes: EndpointChanges): Promise<Endpoint> {
    const now = this.#clock();
    await this.#o.store.update(endpoint.id, changes, now);
    const updated: Endpoint = { ...endpoint, ...stripUndefined(changes), updatedAt: now };
    if (changes.ed25519 === true && updated.secrets.current.ed25519 === undefined) {
      // Turning ed25519 on later: give the current keys a key pair (its public key is shown).
      updated.secrets = {
        ...updated.secrets,
        current: { ...updated.secrets.current, ed25519: generateEd25519KeyPair().secret },
      };
      await this.#o.store.update(endpoint.id, { secrets: updated.secrets }, now);
    }
    await this.#syncRule(updated);
    this.#o.changed(endpoint.id);
    return updated;
  }

  async remove(endpoint: Endpoint): Promise<void> {
    await this.#o.store.delete(endpoint.id);
    if (endpoint.ruleId !== null)
      await this.#o.rules.store.delete(tenantOwner(endpoint.tenant), endpoint.ruleId);
    await this.#o.rules.reload();
    this.#o.changed(endpoint.id);
  }

  /** Enables or disables; returns whether anything changed. */
  async setEnabled(
    endpoint: Endpoint,
    enabled: boolean,
    reason: DisabledReason = 'manual',
  ): Promise<boolean> {
    const now = this.#clock();
    const changed = await this.#o.store.setEnabled(
      endpoint.id,
      enabled,
      enabled ? null : reason,
      now,
    );
    if (changed) {
      await this.#syncRule({ ...endpoint, enabled });
      this.#o.changed(endpoint.id);
      if (!enabled && reason !== 'manual') await this.#o.onAutoDisabled(endpoint, reason, now);
    }
    return changed;
  }

  /** New keys; the old ones keep signing for at most `graceMs` (0: stop at once). */
  async rotate(
    endpoint: Endpoint,
    graceMs: number,
  ): Promise<{ keys: RevealedKeys; previousExpiresAt: number }> {
    const now = this.#clock();
    const keys = newKeySet(endpoint.ed25519);
    const previousExpiresAt = now + graceMs;
    const secrets: EndpointSecrets = {
      current: keys,
      // Every old key signs at most `graceMs` more: a rotation with no grace after a leak
      // retires all of them at once.
      previous: [
        { ...endpoint.secrets.current, expiresAt: previousExpiresAt },
        ...endpoint.secrets.previous.map((p) => ({
          ...p,
          expiresAt: Math.min(p.expiresAt, previousExpiresAt),
        })),
      ]
        .filter((p) => p.expiresAt > now)
        .slice(0, MAX_PREVIOUS_KEYS),
    };
    await this.#o.store.update(endpoint.id, { secrets }, now);
    this.#o.changed(endpoint.id);
    return { keys: reveal(keys), previousExpiresAt };
  }

  /** Makes every endpoint's rule match the endpoint, and drops rules of endpoints that are gone. */
  async reconcile(): Promise<void> {
    // Several nodes may start at once: one losing a race for a missing rule (its name is
    // taken by the winner's) must not stop the hub; the next start looks again.
    for (const endpoint of await this.#o.store.all())
      await this.#syncRule(endpoint, false).catch((err: unknown) =>
        this.#o.logger?.warn(
          { err, endpoint: endpoint.id },
          'webhooks: could not repair the rule of an endpoint',
        ),
      );
    const byId = new Map((await this.#o.store.all()).map((e) => [e.id, e]));
    for (const rule of await this.#o.rules.store.listEnabled()) {
      if (!rule.name.startsWith(RULE_NAME_PREFIX)) continue;
      const endpoint = byId.get(rule.name.slice(RULE_NAME_PREFIX.length));
      if (!endpoint || endpoint.ruleId !== rule.id)
        await this.#o.rules.store.delete(rule.owner, rule.id);
    }
    await this.#o.rules.reload();
  }

  /** Writes the endpoint's rule as it should be (creating it if it is missing). */
  async #syncRule(endpoint: Endpoint, reload = true): Promise<void> {
    const owner = tenantOwner(endpoint.tenant);
    const input = ruleInput(endpoint);
    const updated =
      endpoint.ruleId === null
        ? undefined
        : await this.#o.rules.store.update(owner, endpoint.ruleId, input);
    if (!updated) {
      const rule = await this.#o.rules.store.create(
        owner,
        input,
        DEFAULT_RULE_LIMITS.maxRulesPerOwner,
      );
      await this.#o.store.update(endpoint.id, { ruleId: rule.id }, this.#clock());
      this.#o.changed(endpoint.id);
    }
    if (reload) await this.#o.rules.reload();
  }
}

export function ruleInput(endpoint: Endpoint): RuleInput {
  return {
    name: `${RULE_NAME_PREFIX}${endpoint.id}`,
    description: `Managed by the webhooks API for endpoint ${endpoint.id}: change the endpoint, not this rule.`,
    enabled: endpoint.enabled,
    pattern: endpointPattern(endpoint.eventTypes, endpoint.filter),
    targets: [{ kind: 'webhook', endpointId: endpoint.id, ordered: false }],
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function newEndpointId(): string {
  // 22 base62 characters ≈ 131 bits; rejection sampling keeps the distribution uniform.
  let id = '';
  while (id.length < 22)
    for (const byte of randomBytes(32)) if (byte < 248 && id.length < 22) id += BASE62[byte % 62];
  return `ep_${id}`;
}

function newKeySet(ed25519: boolean): KeySet {
  return {
    hmac: generateSecret(32),
    ...(ed25519 ? { ed25519: generateEd25519KeyPair().secret } : {}),
  };
}

function reveal(keys: KeySet): RevealedKeys {
  return {
    secret: keys.hmac,
    ...(keys.ed25519 !== undefined ? { ed25519PublicKey: ed25519PublicKeyOf(keys.ed25519) } : {}),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
