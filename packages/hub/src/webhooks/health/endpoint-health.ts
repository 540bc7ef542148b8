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

/**
 * Disables the endpoint; with `due`, only if it holds for the endpoint as stored (checked
 * under the row's lock, so a concurrent enable wins).
 */
export type Disabler = (
  endpoint: Endpoint,
  reason: 'gone' | 'failing',
  due?: (current: Endpoint) => boolean,
) => Promise<void>;

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
    // `endpoint` is the copy the attempt started with: a re-enable since then cleared the
    // streak it shows. So before disabling, the stored streak decides (an attempt that began
    // before the re-enable and failed after it starts a new streak, it does not end one).
    if (since === null || now - since >= this.#disableAfterMs) {
      since = await this.#store.markFailing(endpoint.id, now);
      this.#cache.setFailingSince(endpoint.id, since);
    }
    const after = this.#disableAfterMs;
    if (now - since >= after)
      await this.#disable({ ...endpoint, failingSince: since }, 'failing', (current) =>
        current.failingSince === null ? false : now - current.failingSince >= after,
      );
  }

  async gone(endpoint: Endpoint): Promise<void> {
    await this.#disable(endpoint, 'gone');
  }
}
