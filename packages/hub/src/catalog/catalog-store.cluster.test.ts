/** The catalog's tables on PostgreSQL: a fresh database per run, a schema per store. */
import { useScratchPostgres } from '../store/postgres/testing/scratch-postgres.ts';
import { describeCatalogStoreContract } from './catalog-store.contract.ts';

const postgres = useScratchPostgres('catalog');

// Several pooled connections, so concurrent publishes really race.
describeCatalogStoreContract('postgres', () => postgres.open({ poolSize: 6 }));
