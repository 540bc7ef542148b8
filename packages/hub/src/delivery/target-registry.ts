/**
 * The target kinds the hub knows and, for each, the sender that delivers to it. A kind
 * can be known (rules may name it) before a sender exists: its deliveries are stored and
 * wait, and start flowing when a sender is registered (how `webhook` targets behave until
 * the webhooks capability provides its sender).
 */
import type { DeliveryTarget } from './delivery-target.ts';
import {
  DEFAULT_RETRY_POLICY,
  resolvePolicy,
  type RetryOverride,
  type RetryPolicy,
} from './retry-policy.ts';

export type TargetKindSpec = {
  /** `queue`, `push`, `webhook` … (lowercase letters, digits, `-`). */
  kind: string;
  /** The field of a rule target that names the destination: `queue`, `channel`, `endpointId`. */
  refField: string;
  /** Why `ref` cannot name a destination of this kind, or undefined when it can. */
  refProblem?: (ref: string) => string | undefined;
  /** One line for the docs and error messages. */
  description: string;
};

export type SenderOptions = {
  /** The kind's retry policy (a rule target may override parts of it). */
  retry?: Partial<RetryPolicy>;
  /** One attempt is abandoned (and counted as a retry) after this long. Default 30 s. */
  timeoutMs?: number;
  /** Attempts in flight at once per target (kind + destination) on this node. Default 4. */
  concurrency?: number;
  /**
   * A destination's own, lower limit (e.g. a webhook endpoint's configured concurrency),
   * capped by `concurrency`; undefined means `concurrency`. Called often: keep it cheap.
   */
  concurrencyOf?: (ref: string) => number | undefined;
};

export type RegisteredSender = {
  target: DeliveryTarget;
  retry: RetryPolicy;
  timeoutMs: number;
  concurrency: number;
  concurrencyOf: ((ref: string) => number | undefined) | undefined;
};

/**
 * The operator's settings for a kind (`routing.targets.<kind>` in portico.config.json).
 * They win over what the kind's code registers, and a rule target's own `retry` wins
 * over both.
 */
export type KindSettings = {
  retry?: RetryOverride;
  timeoutMs?: number;
  concurrency?: number;
};

const KIND = /^[a-z][a-z0-9-]{0,31}$/;

export class TargetRegistry {
  readonly #kinds = new Map<string, TargetKindSpec>();
  readonly #senders = new Map<string, RegisteredSender>();
  readonly #listeners = new Set<(kind: string) => void>();
  readonly #settings: Readonly<Record<string, KindSettings>>;

  constructor(settings: Readonly<Record<string, KindSettings>> = {}) {
    this.#settings = settings;
  }

  /** Makes a kind known to rules. Redefining a kind replaces its spec. */
  define(spec: TargetKindSpec): void {
    if (!KIND.test(spec.kind)) throw new Error(`invalid target kind "${spec.kind}"`);
    this.#kinds.set(spec.kind, spec);
  }

  /**
   * Registers the sender of a kind (defining the kind too when `spec` is given). Replacing
   * a sender affects later attempts only.
   */
  register(
    kind: string,
    target: DeliveryTarget,
    options: SenderOptions = {},
    spec?: Omit<TargetKindSpec, 'kind'>,
  ): void {
    if (spec) this.define({ ...spec, kind });
    if (!this.#kinds.has(kind)) throw new Error(`target kind "${kind}" is not defined`);
    const settings = Object.hasOwn(this.#settings, kind) ? this.#settings[kind] : undefined;
    this.#senders.set(kind, {
      target,
      retry: resolvePolicy({ ...DEFAULT_RETRY_POLICY, ...options.retry }, settings?.retry),
      timeoutMs: settings?.timeoutMs ?? options.timeoutMs ?? 30_000,
      concurrency: Math.max(1, settings?.concurrency ?? options.concurrency ?? 4),
      concurrencyOf: options.concurrencyOf,
    });
    for (const listener of this.#listeners) listener(kind);
  }

  spec(kind: string): TargetKindSpec | undefined {
    return this.#kinds.get(kind);
  }

  kinds(): TargetKindSpec[] {
    return [...this.#kinds.values()];
  }

  /** Kinds the operator configured that no capability has defined (probably a typo). */
  unknownSettings(): string[] {
    return Object.keys(this.#settings).filter((kind) => !this.#kinds.has(kind));
  }

  sender(kind: string): RegisteredSender | undefined {
    return this.#senders.get(kind);
  }

  /** Told when a sender is registered (so waiting deliveries can start). Returns an unsubscribe. */
  onRegister(listener: (kind: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
