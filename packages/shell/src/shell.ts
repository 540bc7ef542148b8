/**
 * `createShell`: what the portal page creates once and hands to every micro-frontend.
 * It composes the dictionary client, the (cross-tab) push connection and the client bus.
 */
import { createBus } from './bus/create-bus.ts';
import { fetchCatalogContracts } from './bus/catalog-contracts.ts';
import { loadDictionary } from './dictionary/dictionary-client.ts';
import { presentedOverride } from './dictionary/override-id.ts';
import { ShellError } from './shell-error.ts';
import type { ConnectionState, Shell, ShellOptions } from './types.ts';

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
  const connection: ConnectionState = { state: 'closed', leader: false };
  const bus = createBus({
    dev: options.dev ?? false,
    bridgeOrigins: options.bridgeOrigins ?? [],
    loadContracts: () => fetchCatalogContracts({ hub: options.hub, getToken: options.getToken }),
  });
  return {
    get dictionary() {
      return dictionary.current;
    },
    api: (name, version) => dictionary.baseUrl(name, version),
    settings: () => dictionary.current.settings,
    subscribe() {
      throw new ShellError('invalid', 'push subscriptions are not implemented yet');
    },
    bus,
    get connection() {
      return connection;
    },
    onConnectionChange() {
      return () => {};
    },
    async close() {
      bus.close();
    },
  };
}
