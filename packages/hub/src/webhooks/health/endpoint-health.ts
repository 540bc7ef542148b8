/**
 * An endpoint's failing streak, and disabling it: at once on 410 Gone, or when every
 * attempt has failed for `disableAfterMs` (default 5 days). The streak's start is kept
 * in the store (`failing_since`), so it survives restarts and is shared by hub nodes;
 * it is written once per streak and cleared by the next success.
 */
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { EndpointStore } from '../endpoints/endpoint-store.ts';
import type { EndpointCache } from '../sender/endpoint-cache.ts';
import type { HealthReports } from '../sender/webhook-sender.ts';

export type Disabler = (endpoint: Endpoint, reason: 'gone' | 'failing') => Promise<void>;

export class EndpointHealth implements HealthReports {
  readonly #store: EndpointStore;
  readonly #cache: EndpointCache;
  readonly #disableAfterMs: number;
  readonly #disable: Disabler;

  constructor(options: {
    store: EndpointStore;
    cache: EndpointCache;
    disableAfterMs: number;
    disable: Disabler;
  }) {
    this.#store = options.store;
    this.#cache = options.cache;
    this.#disableAfterMs = options.disableAfterMs;
    this.#disable = options.disable;
  }

  async succeeded(endpoint: Endpoint): Promise<void> {
    if (endpoint.failingSince === null) return;
    await this.#store.clearFailing(endpoint.id);
    this.#cache.setFailingSince(endpoint.id, null);
  }

  async failed(endpoint: Endpoint, now: number): Promise<void> {
    let since = endpoint.failingSince;
    if (since === null) {
      since = await this.#store.markFailing(endpoint.id, now);
      this.#cache.setFailingSince(endpoint.id, since);
    }
    if (now - since >= this.#disableAfterMs)
      await this.#disable({ ...endpoint, failingSince: since }, 'failing');
  }

  async gone(endpoint: Endpoint): Promise<void> {
    await this.#disable(endpoint, 'gone');
  }
}
