/**
 * `createShell`: what the portal page creates once and hands to every micro-frontend.
 * It composes the dictionary client, the (cross-tab) push connection and the client bus.
 */
import { createBus } from './bus/create-bus.ts';
import { fetchCatalogContracts } from './bus/catalog-contracts.ts';
import { loadDictionary } from './dictionary/dictionary-client.ts';
import { presentedOverride } from './dictionary/override-id.ts';
import type { BackoffSettings } from './push/backoff.ts';
import { PushClient } from './push/push-client.ts';
import { filterAsSent } from './filter-as-sent.ts';
import { ShellError } from './shell-error.ts';
import type { Shell, ShellOptions } from './types.ts';

export async function createShell(options: ShellOptions): Promise<Shell> {
  const override = presentedOverride(
    options.override,
    globalThis.location?.href,
    globalThis.document?.cookie,
  );
  const dictionary = await loadDictionary({
    hub: options.hub,
    app: options.app,
    getToken: options.getToken,
    override,
  });
  const hubOrigin = new URL(options.hub).origin;
  // Everything that can refuse the options comes before the push client: once created, it
  // connects to the hub, and a createShell that throws would leave that connection behind.
  const bus = createBus({
    dev: options.dev ?? false,
    bridgeOrigins: options.bridgeOrigins ?? [],
    loadContracts: () => fetchCatalogContracts({ hub: options.hub, getToken: options.getToken }),
  });
  const push = new PushClient({
    hub: options.hub,
    getToken: options.getToken,
    transport: options.transport ?? 'sse',
    // One connection per hub and tenant for all tabs of this origin. Without Web Locks
    // (plain-http pages are not a secure context) no leader can be elected: each tab alone.
    shareKey:
      options.crossTab === false || !globalThis.navigator?.locks
        ? undefined
        : `portico-shell:${hubOrigin}:${dictionary.current.tenant}`,
    backoff: () => dictionary.current.settings.backoff as BackoffSettings | undefined,
  });
  // Server-driven revalidation (settings.refreshSeconds): a 304 while nothing changed.
  // At most a day, as the hub allows: a larger delay overflows the timer, which then fires
  // every millisecond.
  const refreshSeconds = Math.min(Number(dictionary.current.settings.refreshSeconds ?? 0), 86_400);
  const refresher =
    refreshSeconds > 0
      ? setInterval(() => void dictionary.refresh().catch(() => {}), refreshSeconds * 1000)
      : undefined;
  const onPageHide = () => push.close();
  globalThis.addEventListener?.('pagehide', onPageHide);

  return {
    get dictionary() {
      return dictionary.current;
    },
    api: (name, version) => dictionary.baseUrl(name, version),
    settings: () => dictionary.current.settings,
    subscribe(mfeId, topicPattern, handler, subscribeOptions) {
      if (typeof mfeId !== 'string' || mfeId === '')
        throw new ShellError(
          'invalid',
          'subscribe needs the micro-frontend id (a non-empty string)',
        );
      if (typeof topicPattern !== 'string' || topicPattern === '')
        throw new ShellError('invalid', 'subscribe needs a topic pattern such as "incident.>"');
      if (typeof handler !== 'function')
        throw new ShellError('invalid', 'subscribe needs a handler function');
      const replay = subscribeOptions?.replay;
      if (replay !== undefined && !(Number.isInteger(replay) && replay >= 0 && replay <= 1000))
        throw new ShellError('invalid', 'replay must be an integer from 0 to 1000');
      const filter = subscribeOptions?.filter;
      return push.subscribe(mfeId, topicPattern, handler, {
        ...subscribeOptions,
        ...(filter !== undefined && { filter: filterAsSent(filter) }),
      });
    },
    bus,
    get connection() {
      return push.connection;
    },
    onConnectionChange: (listener) => push.onConnectionChange(listener),
    async close() {
      globalThis.removeEventListener?.('pagehide', onPageHide);
      clearInterval(refresher);
      push.close();
      bus.close();
    },
  };
}
