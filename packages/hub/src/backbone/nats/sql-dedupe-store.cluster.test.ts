import { useScratchPostgres } from '../../store/postgres/testing/scratch-postgres.ts';
import { describeSqlDedupeStore } from './sql-dedupe-store.contract.ts';

// PostgreSQL at 127.0.0.1:5432 (the rows go as one JSON parameter there, not a VALUES list).
const postgres = useScratchPostgres('nats_dedupe');

describeSqlDedupeStore('PostgreSQL', async () => {
  const db = await postgres.open();
  return { db, cleanup: () => db.close() };
});
