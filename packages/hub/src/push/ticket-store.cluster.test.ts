/** Stream tickets on PostgreSQL: a fresh database per run, a schema per store. */
import { useScratchPostgres } from '../store/postgres/testing/scratch-postgres.ts';
import { describeTicketStoreContract } from './ticket-store.contract.ts';

const postgres = useScratchPostgres('tickets');

// Several pooled connections, so concurrent issues and redemptions really race.
describeTicketStoreContract('postgres', () => postgres.open({ poolSize: 6 }));
