/** A webhook endpoint as stored, and its signing keys. */
import type { Pattern } from '../../routing/pattern/index.ts';

/** One generation of signing keys: the HMAC secret, plus an ed25519 key when the endpoint wants `v1a`. */
export type KeySet = {
  /** `whsec_…` */
  hmac: string;
  /** `whsk_…` (the private seed; only its `whpk_` public key is ever shown). */
  ed25519?: string;
};

export type EndpointSecrets = {
  current: KeySet;
  /** Keys replaced by a rotation, still signing until `expiresAt` (epoch ms). Newest first. */
  previous: (KeySet & { expiresAt: number })[];
};

export type DisabledReason = 'manual' | 'gone' | 'failing';

export type Endpoint = {
  /** `ep_` + 22 random base62 characters. */
  id: string;
  tenant: string;
  url: string;
  description: string;
  /** Event type patterns: exact, `*` for one segment, `>` for the rest. */
  eventTypes: string[];
  /** Optional EventBridge pattern over the whole CloudEvent, ANDed with the types. */
  filter: Pattern | null;
  enabled: boolean;
  disabledReason: DisabledReason | null;
  disabledAt: number | null;
  /** Requests per second; null = not limited. */
  rateLimitPerSecond: number | null;
  /** Attempts in flight at once (on each hub node). */
  concurrency: number;
  /** Sign with ed25519 (`v1a`) too. */
  ed25519: boolean;
  secrets: EndpointSecrets;
  /** The routing rule that sends matching events here (kept in step with the endpoint). */
  ruleId: string | null;
  /** Since when every attempt has failed; null after a success. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
};

/** Keys that sign a delivery now: the current set first, then unexpired previous ones. */
export function activeKeySets(secrets: EndpointSecrets, now: number): KeySet[] {
  return [secrets.current, ...secrets.previous.filter((p) => p.expiresAt > now)];
}
