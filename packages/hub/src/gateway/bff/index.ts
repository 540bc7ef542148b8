/** BFF aggregation: declarative compositions over the gateway's APIs. */
import type { Authenticator } from '../../auth/principal.ts';
import type { HubServer } from '../../http/server.ts';
import type { SqlDatabase } from '../../store/sql-database.ts';
import { registerBffRoutes } from './bff-routes.ts';
import { CompositionStore } from './composition-store.ts';
import { BFF_MIGRATIONS } from './migrations.ts';
import { CompositionRunner } from './run-composition.ts';

export async function createBff(options: {
  db: SqlDatabase;
  server: HubServer;
  authenticator: Authenticator;
}): Promise<void> {
  await options.db.migrate(BFF_MIGRATIONS);
  registerBffRoutes(options.server, {
    store: new CompositionStore(options.db),
    runner: new CompositionRunner(options.server),
    authenticator: options.authenticator,
  });
}
