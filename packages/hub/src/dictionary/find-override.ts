/** Looks up a presented override id for a tenant; what to tell the caller about it. */
import type { DictionaryStore, OverrideSet } from './dictionary-store.ts';
import { isOverrideId } from './override-id.ts';

export type OverrideStatus = 'applied' | 'unknown' | 'expired';

export async function findOverride(
  store: DictionaryStore,
  tenant: string,
  id: string | undefined,
): Promise<{ set?: OverrideSet; status?: OverrideStatus }> {
  if (id === undefined) return {};
  if (!isOverrideId(id)) return { status: 'unknown' };
  const set = await store.getOverride(id);
  // Another tenant's override is "unknown" here: its existence is not revealed.
  if (!set || set.tenant !== tenant) return { status: 'unknown' };
  if (set.expiresAt <= Date.now()) return { status: 'expired' };
  return { set, status: 'applied' };
}
