/** The deliveries table on PostgreSQL: a fresh database per run, a schema per store. */
import { useScratchPostgres } from '../store/postgres/testing/scratch-postgres.ts';
import { describeDeliveryStoreContract } from './delivery-store.contract.ts';

const postgres = useScratchPostgres('deliveries');

// Several pooled connections, so concurrent claims really race.
describeDeliveryStoreContract('postgres', () => postgres.open({ poolSize: 6 }));
