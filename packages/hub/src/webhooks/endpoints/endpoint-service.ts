/**
 * Endpoint life cycle, kept in step with its routing rule. An endpoint is one rule
 * (`webhook-endpoint.<id>`, owned by the tenant) whose pattern is the endpoint's types
 * and filter and whose one target is the endpoint; enabling or disabling the endpoint
 * enables or disables the rule; deleting it deletes the rule.
 *
 * Every write reads the endpoint as stored, under a lock, and writes the row and its rule
 * in that one transaction (a rule write, `RuleStore.write`): never from the copy a request
 * read before, which a concurrent request (on this node or another) may have changed or
 * deleted meanwhile. The rule write's version bump serialises these transactions on every
 * node, so the per-tenant endpoint count is taken inside the creating one. Rotation does
 * not touch the rule: it only locks the row. `reconcile()` (at start) repairs managed rules
 * changed or deleted through the rules API, and rows that older versions (which wrote row
 * and rule apart) left half-written.
 */
import { randomBytes } from 'node:crypto';
import type { RuleStore, RuleWrites } from '../../routing/rule-store.ts';
import { DEFAULT_RULE_LIMITS, tenantOwner, type RuleInput } from '../../routing/rule.ts';
import type { SqlExecutor } from '../../store/sql-database.ts';
import { generateEd25519KeyPair, generateSecret } from '../signing/index.ts';
import { ed25519PublicKeyOf } from '../signing/index.ts';
import type { DisabledReason, Endpoint, EndpointSecrets, KeySet } from './endpoint.ts';
import type { EndpointChanges, EndpointStore } from './endpoint-store.ts';
import { endpointPattern } from './event-types.ts';

export const RULE_NAME_PREFIX = 'webhook-endpoint.';
/** Rotated-out keys that may sign at once (a rotation that would drop one is refused). */
const MAX_PREVIOUS_KEYS = 5;

/** The endpoint was deleted (by a concurrent request) before this write could lock it. */
export class EndpointGoneError extends Error {
  override name = 'EndpointGoneError';
}

/** The tenant has `limit` endpoints already; nothing was written. */
export class EndpointLimitError extends Error {
  override name = 'EndpointLimitError';
  readonly limit: number;
  constructor(limit: number) {
    super(`the limit of ${limit} webhook endpoints per tenant is reached`);
    this.limit = limit;
  }
}

/**
 * A rotation with grace would push out a rotated-out key whose grace still runs (its
 * receivers may not have the newer secrets yet); nothing was written.
 */
export class TooManyRotationsError extends Error {
  override name = 'TooManyRotationsError';
  readonly limit: number;
  /** When the oldest rotated-out key stops signing (epoch ms): a rotation fits again then. */
  readonly retryAt: number;
  constructor(limit: number, retryAt: number) {
    super(
      `the endpoint has ${limit} rotated-out secrets still signing (the oldest until ${new Date(retryAt).toISOString()}); ` +
        'rotate again after that, or now with "graceSeconds": 0 to retire every old secret at once',
    );
    this.limit = limit;
    this.retryAt = retryAt;
  }
}

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
  /** Endpoints a tenant may have (default: no limit). */
  maxEndpointsPerTenant?: number;
  /** Called after every write to an endpoint (refresh cached copies); awaited before answering. */
  changed(id: string): void | Promise<void>;
  /** Called once when an endpoint goes from enabled to disabled by the hub itself. */
  onAutoDisabled(endpoint: Endpoint, reason: DisabledReason, now: number): Promise<void>;
  /** Called once the endpoint is deleted (its pending deliveries can go to the DLQ). */
  onRemoved(endpoint: Endpoint): Promise<void>;
  logger?: { warn(obj: object, msg: string): void };
  clock?: () => number;
};

/** A write to the locked, current endpoint inside a rule write. */
type LockedWork<T> = (tx: SqlExecutor, rules: RuleWrites, current: Endpoint) => Promise<T>;

export class EndpointService {
  readonly #o: EndpointServiceOptions;
  readonly #clock: () => number;

  constructor(options: EndpointServiceOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  /** Throws EndpointLimitError past the tenant's limit (counted inside the write). */
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
    const max = this.#o.maxEndpointsPerTenant ?? Infinity;
    await this.#o.rules.store.write(async (tx, rules) => {
      if ((await this.#o.store.count(tenant, tx)) >= max) throw new EndpointLimitError(max);
      const rule = await rules.create(
        tenantOwner(tenant),
        ruleInput(endpoint),
        DEFAULT_RULE_LIMITS.maxRulesPerOwner,
      );
      endpoint.ruleId = rule.id;
      await this.#o.store.insert(endpoint, tx);
    });
    await this.#o.rules.reload();
    return { endpoint, keys: reveal(keys) };
  }

  /** Applies `changes` to the endpoint as stored; returns it as it is now. */
  async update(endpoint: Endpoint, changes: EndpointChanges): Promise<Endpoint> {
    const now = this.#clock();
    return this.#write(endpoint.id, async (tx, rules, current) => {
      const updated: Endpoint = { ...current, ...stripUndefined(changes), updatedAt: now };
      const write = { ...changes };
      if (changes.ed25519 === true && current.secrets.current.ed25519 === undefined) {
        // Turning ed25519 on later: give the current keys a key pair (its public key is shown).
        updated.secrets = write.secrets = {
          ...current.secrets,
          current: { ...current.secrets.current, ed25519: generateEd25519KeyPair().secret },
        };
      }
      await this.#o.store.update(endpoint.id, write, now, tx);
      await this.#syncRule(tx, rules, updated);
      return updated;
    });
  }

  async remove(endpoint: Endpoint): Promise<void> {
    await this.#write(endpoint.id, async (tx, rules, current) => {
      await this.#o.store.delete(current.id, tx);
      if (current.ruleId !== null) await rules.delete(tenantOwner(current.tenant), current.ruleId);
    });
    await this.#o.onRemoved(endpoint);
  }

  /**
   * Enables or disables; `changed` is whether this call did (so one node, once, tells
   * the tenant about an automatic disable), `endpoint` the endpoint as it is now. With
   * `due`, nothing changes unless it holds for the endpoint as stored, under the lock.
   */
  async setEnabled(
    endpoint: Endpoint,
    enabled: boolean,
    reason: DisabledReason = 'manual',
    due?: (current: Endpoint) => boolean,
  ): Promise<{ changed: boolean; endpoint: Endpoint }> {
    const now = this.#clock();
    const result = await this.#write(endpoint.id, async (tx, rules, current) => {
      if (current.enabled === enabled || (due && !due(current)))
        return { changed: false, endpoint: current };
      await this.#o.store.setEnabled(current.id, enabled, enabled ? null : reason, now, tx);
      const updated: Endpoint = {
        ...current,
        enabled,
        disabledReason: enabled ? null : reason,
        disabledAt: enabled ? null : now,
        failingSince: enabled ? null : current.failingSince,
        updatedAt: now,
      };
      await this.#syncRule(tx, rules, updated);
      return { changed: true, endpoint: updated };
    });
    if (result.changed && !enabled && reason !== 'manual')
      await this.#o.onAutoDisabled(result.endpoint, reason, now);
    return result;
  }

  /**
   * New keys; the old ones keep signing for at most `graceMs` (0: stop at once). Made
   * from the keys as stored, under the row's lock: of two rotations at once, the second
   * keeps the first one's new secret among the previous ones, so both answers sign. With
   * MAX_PREVIOUS_KEYS old keys still signing, a rotation with grace is refused
   * (TooManyRotationsError) rather than silently retiring the oldest before its time.
   */
  async rotate(
    endpoint: Endpoint,
    graceMs: number,
  ): Promise<{ keys: RevealedKeys; previousExpiresAt: number }> {
    const now = this.#clock();
    const previousExpiresAt = now + graceMs;
    const keys = await this.#o.store.locked(endpoint.id, async (tx, current) => {
      if (!current) throw new EndpointGoneError(`no webhook endpoint "${endpoint.id}"`);
      const fresh = newKeySet(current.ed25519);
      const secrets = rotatedSecrets(current.secrets, fresh, now, previousExpiresAt);
      await this.#o.store.update(current.id, { secrets }, now, tx);
      return fresh;
    });
    await this.#o.changed(endpoint.id);
    return { keys: reveal(keys), previousExpiresAt };
  }

  /** Makes every endpoint's rule match the endpoint, and drops rules of endpoints that are gone. */
  async reconcile(): Promise<void> {
    // Several nodes may start at once, and others may be serving writes: each repair
    // re-reads under the lock like any write, and one that fails (an endpoint deleted
    // meanwhile) must not stop the hub; the next start looks again.
    for (const endpoint of await this.#o.store.all())
      await this.#write(endpoint.id, (tx, rules, current) => this.#syncRule(tx, rules, current), {
        reload: false,
      }).catch((err: unknown) => this.#warn(err, endpoint.id));
    const byId = new Map((await this.#o.store.all()).map((e) => [e.id, e]));
    for (const rule of await this.#o.rules.store.listEnabled()) {
      if (!rule.name.startsWith(RULE_NAME_PREFIX)) continue;
      const id = rule.name.slice(RULE_NAME_PREFIX.length);
      if (byId.get(id)?.ruleId === rule.id) continue;
      // Checked again inside the write: an endpoint created meanwhile has its rule already.
      await this.#o.rules.store
        .write(async (tx, rules) => {
          const endpoint = await this.#o.store.lock(tx, id);
          if (!endpoint || endpoint.ruleId !== rule.id) await rules.delete(rule.owner, rule.id);
        })
        .catch((err: unknown) => this.#warn(err, id));
    }
    await this.#o.rules.reload();
  }

  #warn(err: unknown, endpoint: string): void {
    this.#o.logger?.warn({ err, endpoint }, 'webhooks: could not repair the rule of an endpoint');
  }

  /**
   * Runs `work` in one rule write with the endpoint locked as stored (EndpointGoneError if
   * it is not), then reloads this node's rules and its cached copy of the endpoint.
   */
  async #write<T>(id: string, work: LockedWork<T>, o = { reload: true }): Promise<T> {
    const result = await this.#o.rules.store.write(async (tx, rules) => {
      const current = await this.#o.store.lock(tx, id);
      if (!current) throw new EndpointGoneError(`no webhook endpoint "${id}"`);
      return work(tx, rules, current);
    });
    if (o.reload) await this.#o.rules.reload();
    await this.#o.changed(id);
    return result;
  }

  /** Writes the endpoint's rule as it should be (creating it if it is missing). */
  async #syncRule(tx: SqlExecutor, rules: RuleWrites, endpoint: Endpoint): Promise<void> {
    const owner = tenantOwner(endpoint.tenant);
    const input = ruleInput(endpoint);
    const updated =
      endpoint.ruleId === null ? undefined : await rules.update(owner, endpoint.ruleId, input);
    if (updated) return;
    const rule = await rules.create(owner, input, DEFAULT_RULE_LIMITS.maxRulesPerOwner);
    endpoint.ruleId = rule.id;
    await this.#o.store.update(endpoint.id, { ruleId: rule.id }, this.#clock(), tx);
  }
}

/** The keys after a rotation to `fresh`: every old key signs at most until `expiresAt`. */
function rotatedSecrets(
  secrets: EndpointSecrets,
  fresh: KeySet,
  now: number,
  expiresAt: number,
): EndpointSecrets {
  // A rotation with no grace after a leak retires all of the old keys at once.
  const previous = [
    { ...secrets.current, expiresAt },
    ...secrets.previous.map((p) => ({ ...p, expiresAt: Math.min(p.expiresAt, expiresAt) })),
  ].filter((p) => p.expiresAt > now);
  const over = previous.length - MAX_PREVIOUS_KEYS;
  if (over > 0) {
    // It fits once `over` of the keys rotated out before expire.
    const expiring = previous.slice(1).map((p) => p.expiresAt);
    expiring.sort((a, b) => a - b);
    throw new TooManyRotationsError(MAX_PREVIOUS_KEYS, expiring[over - 1]!);
  }
  return { current: fresh, previous };
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
