/** The dictionary store contract on PostgreSQL: a fresh database per run, a schema per store. */
import { useScratchPostgres } from '../store/postgres/testing/scratch-postgres.ts';
import { describeDictionaryStoreContract } from './dictionary-store.contract.ts';

const postgres = useScratchPostgres('dictionary');

describeDictionaryStoreContract('postgres', () => postgres.open());
