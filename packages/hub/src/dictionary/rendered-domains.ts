/**
 * The public `domains` of a cached dictionary, serialised and hashed once per app and
 * override set rather than once per read. A large dictionary (a thousand APIs) took
 * hundreds of milliseconds to render, a 304 as much as a 200: every poll of every app
 * shell paid it, and so did anyone repeating anonymous reads of a public tenant.
 */
import { entityTagOf } from '../http/entity-tag.ts';
import type { Snapshot } from './dictionary-cache.ts';
import type { OverrideSet } from './dictionary-store.ts';
import type { Api } from './model.ts';
import { applyPatch, renderDomains } from './render.ts';

export type RenderedDomains = {
  /** `domains` as JSON. */
  json: string;
  /** The entity tag of `json`: part of the response's ETag. */
  tag: string;
};

type Memo = { apps: Set<string>; renderings: Map<string, RenderedDomains> };

export class DomainsRenderer {
  // Keyed by snapshot: a changed dictionary is a new snapshot, and the renderings of the
  // old one go with it.
  readonly #memos = new WeakMap<Snapshot, Memo>();
  readonly #perSnapshot: number;

  /** `perSnapshot`: renderings kept per dictionary (each up to its size), least recent out. */
  constructor(perSnapshot = 4) {
    this.#perSnapshot = perSnapshot;
  }

  render(snapshot: Snapshot, app: string | undefined, override?: OverrideSet): RenderedDomains {
    let memo = this.#memos.get(snapshot);
    if (!memo)
      this.#memos.set(snapshot, (memo = { apps: appsNamed(snapshot.apis), renderings: new Map() }));
    // Every app no version names sees the same: one rendering for all of them, so made-up
    // `?app=` values cannot each cost one.
    const named =
      app !== undefined &&
      (memo.apps.has(app) || (override?.patch.some((p) => p.apps?.includes(app)) ?? false));
    // Override sets are never changed, only deleted: the id names the patch.
    const key = `${override?.id ?? ''}\0${app === undefined ? '' : named ? `=${app}` : '?'}`;
    const hit = memo.renderings.get(key);
    if (hit) {
      memo.renderings.delete(key);
      memo.renderings.set(key, hit);
      return hit;
    }
    const apis = override ? applyPatch(snapshot.apis, override.patch) : snapshot.apis;
    const json = JSON.stringify(renderDomains(apis, app));
    const rendered = { json, tag: entityTagOf(json) };
    memo.renderings.set(key, rendered);
    if (memo.renderings.size > this.#perSnapshot)
      memo.renderings.delete(memo.renderings.keys().next().value!);
    return rendered;
  }
}

function appsNamed(apis: readonly Api[]): Set<string> {
  const apps = new Set<string>();
  for (const api of apis)
    for (const v of api.versions) for (const app of v.apps ?? []) apps.add(app);
  return apps;
}
