/** BFF compositions in the state store, per tenant. */
import type { SqlDatabase } from '../../store/sql-database.ts';
import { lockTenant } from '../../store/tenant-lock.ts';
import type { Composition } from './composition.ts';

/** A new composition would pass the tenant's limit. */
export class CompositionLimitError extends Error {
  override name = 'CompositionLimitError';
}

export class CompositionStore {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /**
   * Creates or replaces; true when created. Throws CompositionLimitError when creating
   * would pass `maxPerTenant`. The tenant's writes are serialised: on PostgreSQL two first
   * PUTs of one name both found nothing to update, and the second insert's unique
   * violation was a 500; and the count, taken before, let concurrent creations pass the cap.
   */
  async put(
    tenant: string,
    name: string,
    c: Composition,
    maxPerTenant = Number.POSITIVE_INFINITY,
  ): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      await lockTenant(this.#db, tx, 'compositions', tenant);
      const doc = JSON.stringify(c);
      const changed = await tx.execute(
        'update gateway_compositions set doc = $3, updated_at = $4 where tenant = $1 and name = $2',
        [tenant, name, doc, Date.now()],
      );
      if (changed > 0) return false;
      const [row] = await tx.query<{ n: number }>(
        'select count(*) as n from gateway_compositions where tenant = $1',
        [tenant],
      );
      if (Number(row?.n ?? 0) >= maxPerTenant)
        throw new CompositionLimitError(`the limit of ${maxPerTenant} compositions is reached`);
      await tx.execute(
        'insert into gateway_compositions (tenant, name, doc, updated_at) values ($1, $2, $3, $4)',
        [tenant, name, doc, Date.now()],
      );
      return true;
    });
  }

  async get(tenant: string, name: string): Promise<Composition | undefined> {
    const [row] = await this.#db.query<{ doc: string }>(
      'select doc from gateway_compositions where tenant = $1 and name = $2',
      [tenant, name],
    );
    return row ? (JSON.parse(row.doc) as Composition) : undefined;
  }

  async list(tenant: string): Promise<{ name: string; composition: Composition }[]> {
    const rows = await this.#db.query<{ name: string; doc: string }>(
      'select name, doc from gateway_compositions where tenant = $1 order by name',
      [tenant],
    );
    return rows.map((r) => ({ name: r.name, composition: JSON.parse(r.doc) as Composition }));
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    return (
      (await this.#db.execute('delete from gateway_compositions where tenant = $1 and name = $2', [
        tenant,
        name,
      ])) > 0
    );
  }
}
