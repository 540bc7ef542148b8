/** App manifests in the state store (see migrations.ts). Every method is tenant-scoped. */
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.ts';
import { lockTenant } from '../store/tenant-lock.ts';
import type { ContractChange } from './contract-change.ts';
import type { AppManifest } from './manifest-schema.ts';

export type StoredApp = {
  name: string;
  revision: number;
  manifest: AppManifest;
  createdAt: number;
  updatedAt: number;
};

export type RevisionSummary = {
  revision: number;
  forced: boolean;
  createdAt: number;
  changes: ContractChange[];
};

/** Another publish of the same app won the race: check again against the new revision. */
export class RevisionConflictError extends Error {
  override name = 'RevisionConflictError';
}

/** A new app would pass the tenant's limit. */
export class AppLimitError extends Error {
  override name = 'AppLimitError';
}

/** How many revisions of an app are kept (the newest). */
const KEEP_REVISIONS = 50;

type AppRow = {
  name: string;
  revision: number;
  manifest: string;
  created_at: number;
  updated_at: number;
};

export class CatalogStore {
  readonly #db: SqlDatabase;
  readonly #clock: () => number;

  constructor(db: SqlDatabase, clock: () => number = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  async get(tenant: string, name: string): Promise<StoredApp | undefined> {
    const [row] = await this.#db.query<AppRow>(
      'select name, revision, manifest, created_at, updated_at from catalog_apps where tenant = $1 and name = $2',
      [tenant, name],
    );
    return row ? toApp(row) : undefined;
  }

  async list(tenant: string): Promise<StoredApp[]> {
    const rows = await this.#db.query<AppRow>(
      'select name, revision, manifest, created_at, updated_at from catalog_apps where tenant = $1 order by name',
      [tenant],
    );
    return rows.map(toApp);
  }

  async #checkRoomForNewApp(tx: SqlExecutor, tenant: string, maxApps: number): Promise<void> {
    if (maxApps === Number.POSITIVE_INFINITY) return;
    await lockTenant(this.#db, tx, 'catalogApps', tenant);
    if ((await this.count(tenant, tx)) >= maxApps)
      throw new AppLimitError(`the limit of ${maxApps} apps per tenant is reached`);
  }

  async count(tenant: string, on: SqlExecutor = this.#db): Promise<number> {
    const [row] = await on.query<{ n: number }>(
      'select count(*) as n from catalog_apps where tenant = $1',
      [tenant],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * Writes `manifest` as the revision after `previousRevision` (0: the app is new). Throws
   * RevisionConflictError when the stored revision is no longer `previousRevision`, and
   * AppLimitError when a new app would pass `maxApps`: counted in the transaction, under a
   * per-tenant lock, since on PostgreSQL concurrent first publishes all passed a count
   * taken before it.
   */
  async save(
    tenant: string,
    manifest: AppManifest,
    previousRevision: number,
    record: { forced: boolean; changes: ContractChange[] },
    maxApps = Number.POSITIVE_INFINITY,
  ): Promise<StoredApp> {
    const now = this.#clock();
    const revision = previousRevision + 1;
    const text = JSON.stringify(manifest);
    return this.#db.transaction(async (tx) => {
      if (previousRevision === 0) {
        await this.#checkRoomForNewApp(tx, tenant, maxApps);
        // `on conflict do nothing`: a concurrent first publish is a conflict, not an error.
        const inserted = await tx.execute(
          `insert into catalog_apps (tenant, name, revision, manifest, created_at, updated_at)
           values ($1, $2, 1, $3, $4, $4) on conflict (tenant, name) do nothing`,
          [tenant, manifest.name, text, now],
        );
        if (inserted !== 1) throw new RevisionConflictError('the app was registered concurrently');
      } else {
        const changed = await tx.execute(
          `update catalog_apps set revision = $3, manifest = $4, updated_at = $5
           where tenant = $1 and name = $2 and revision = $6`,
          [tenant, manifest.name, revision, text, now, previousRevision],
        );
        if (changed !== 1) throw new RevisionConflictError('the app was updated concurrently');
      }
      await tx.execute(
        `insert into catalog_app_revisions (tenant, name, revision, manifest, forced, changes, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [tenant, manifest.name, revision, text, record.forced, JSON.stringify(record.changes), now],
      );
      await tx.execute(
        'delete from catalog_app_revisions where tenant = $1 and name = $2 and revision <= $3',
        [tenant, manifest.name, revision - KEEP_REVISIONS],
      );
      const [row] = await tx.query<{ created_at: number }>(
        'select created_at from catalog_apps where tenant = $1 and name = $2',
        [tenant, manifest.name],
      );
      return {
        name: manifest.name,
        revision,
        manifest,
        createdAt: Number(row!.created_at),
        updatedAt: now,
      };
    });
  }

  async revisions(tenant: string, name: string): Promise<RevisionSummary[]> {
    const rows = await this.#db.query<{
      revision: number;
      forced: number;
      changes: string;
      created_at: number;
    }>(
      `select revision, forced, changes, created_at from catalog_app_revisions
       where tenant = $1 and name = $2 order by revision desc`,
      [tenant, name],
    );
    return rows.map((r) => ({
      revision: Number(r.revision),
      forced: Number(r.forced) === 1,
      createdAt: Number(r.created_at),
      changes: JSON.parse(r.changes) as ContractChange[],
    }));
  }

  async delete(tenant: string, name: string): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      await tx.execute('delete from catalog_app_revisions where tenant = $1 and name = $2', [
        tenant,
        name,
      ]);
      return (
        (await tx.execute('delete from catalog_apps where tenant = $1 and name = $2', [
          tenant,
          name,
        ])) > 0
      );
    });
  }
}

function toApp(row: AppRow): StoredApp {
  return {
    name: row.name,
    revision: Number(row.revision),
    manifest: JSON.parse(row.manifest) as AppManifest,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
