/**
 * Live subscriptions by tenant, then by topic pattern (a TopicTrie per tenant). The tenant
 * is the first key, so an event can only ever reach its own tenant's subscriptions: tenant
 * isolation of live push holds by construction, not by a check someone might forget.
 */
import type { Subscription } from './subscription.ts';
import { TopicTrie } from './topic-trie.ts';

export class SubscriptionIndex {
  readonly #tenants = new Map<string, TopicTrie<Subscription>>();

  add(sub: Subscription): void {
    let trie = this.#tenants.get(sub.tenant);
    if (!trie) this.#tenants.set(sub.tenant, (trie = new TopicTrie()));
    trie.add(sub.topic, sub);
  }

  remove(sub: Subscription): void {
    const trie = this.#tenants.get(sub.tenant);
    if (!trie) return;
    trie.remove(sub.topic, sub);
    if (trie.size === 0) this.#tenants.delete(sub.tenant);
  }

  forEachMatch(tenant: string, topic: string, visit: (sub: Subscription) => void): void {
    this.#tenants.get(tenant)?.forEachMatch(topic, visit);
  }
}
