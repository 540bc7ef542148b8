/** The dictionary in the state store. Writes bump the tenant's revision (see migrations.ts). */
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.ts';
import type { Api, ClientSettings, PatchEntry } from './model.ts';

export type TenantDictionary = {
  revision: number;
  anonymous: boolean;
  apis: Api[];
  /** Client settings by app; `*` holds the defaults every app gets. */
  settings: Map<string, ClientSettings>;
};

export type OverrideSet = {
  id: string;
  tenant: string;
  name: string;
  patch: PatchEntry[];
  createdBy: string;
  createdAt: number;
  expiresAt: number;
};

/** A per-tenant cap (APIs, override sets) would be passed; nothing was written. */
export class DictionaryLimitError extends Error {
  override name = 'DictionaryLimitError';
}

export class DictionaryStore {
  readonly #db: SqlDatabase;
  readonly #clock: () => number;

  constructor(db: SqlDatabase, clock: () => number = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  /** The tenant's revision; 0 when the tenant never wrote anything. */
  async revision(tenant: string): Promise<number> {
    const [row] = await this.#db.query<{ revision: number }>(
      'select revision from dictionary_tenants where tenant = $1',
      [tenant],
    );
    return row ? Number(row.revision) : 0;
  }

  /**
   * Whether the tenant made its dictionary anonymous-readable; false for an unknown tenant.
   * One primary-key read: anonymous reads ask this before loading (and caching) a whole
   * dictionary, so requests for made-up tenant names stay cheap and leave the cache alone.
   */
  async isAnonymous(tenant: string): Promise<boolean> {
    const [row] = await this.#db.query<{ anonymous: number }>(
      'select anonymous from dictionary_tenants where tenant = $1',
      [tenant],
    );
    return row ? Number(row.anonymous) === 1 : false;
  }

  async load(tenant: string): Promise<TenantDictionary> {
    return this.#db.transaction(async (tx) => {
      const [head] = await tx.query<{ revision: number; anonymous: number }>(
        'select revision, anonymous from dictionary_tenants where tenant = $1',
        [tenant],
      );
      const apis = await tx.query<{ doc: string }>(
        'select doc from dictionary_apis where tenant = $1 order by name',
        [tenant],
      );
      const settings = await tx.query<{ app: string; settings: string }>(
        'select app, settings from dictionary_settings where tenant = $1',
        [tenant],
      );
      return {
        revision: head ? Number(head.revision) : 0,
        anonymous: head ? Number(head.anonymous) === 1 : false,
        apis: apis.map((r) => JSON.parse(r.doc) as Api),
        settings: new Map(settings.map((r) => [r.app, JSON.parse(r.settings) as ClientSettings])),
      };
    });
  }

  /**
   * Creates or replaces an API; true when it was created. With `maxApis`, creating one past
   * that many throws DictionaryLimitError. The count is taken inside the write, which the
   * revision bump serialises per tenant: concurrent creations cannot all pass it.
   */
  async putApi(
    tenant: string,
    api: Api,
    maxApis?: number,
    precondition?: StoredPrecondition,
  ): Promise<boolean> {
    return this.#write(tenant, async (tx) => {
      if (precondition) await checkPrecondition(tx, tenant, api.name, precondition);
      const changed = await tx.execute(
        'update dictionary_apis set doc = $3, updated_at = $4 where tenant = $1 and name = $2',
        [tenant, api.name, JSON.stringify(api), this.#clock()],
      );
      if (changed > 0) return false;
      if (maxApis !== undefined) {
        const [row] = await tx.query<{ n: number }>(
          'select count(*) as n from dictionary_apis where tenant = $1',
          [tenant],
        );
        if (Number(row?.n ?? 0) >= maxApis)
          throw new DictionaryLimitError(`the limit of ${maxApis} APIs is reached`);
      }
      await tx.execute(
        'insert into dictionary_apis (tenant, name, doc, updated_at) values ($1, $2, $3, $4)',
        [tenant, api.name, JSON.stringify(api), this.#clock()],
      );
      return true;
    });
  }

  async deleteApi(
    tenant: string,
    name: string,
    precondition?: StoredPrecondition,
  ): Promise<boolean> {
    return this.#write(tenant, async (tx) => {
      if (precondition) await checkPrecondition(tx, tenant, name, precondition);
      return (
        (await tx.execute('delete from dictionary_apis where tenant = $1 and name = $2', [
          tenant,
          name,
        ])) > 0
      );
    });
  }

  async putSettings(tenant: string, app: string, settings: ClientSettings): Promise<void> {
    await this.#write(tenant, async (tx) => {
      await tx.execute(
        `insert into dictionary_settings (tenant, app, settings, updated_at) values ($1, $2, $3, $4)
         on conflict (tenant, app) do update set settings = excluded.settings, updated_at = excluded.updated_at`,
        [tenant, app, JSON.stringify(settings), this.#clock()],
      );
    });
  }

  async deleteSettings(tenant: string, app: string): Promise<boolean> {
    return this.#write(
      tenant,
      async (tx) =>
        (await tx.execute('delete from dictionary_settings where tenant = $1 and app = $2', [
          tenant,
          app,
        ])) > 0,
    );
  }

  async setAnonymous(tenant: string, anonymous: boolean): Promise<void> {
    await this.#write(tenant, async (tx) => {
      await tx.execute('update dictionary_tenants set anonymous = $2 where tenant = $1', [
        tenant,
        anonymous ? 1 : 0,
      ]);
    });
  }

  /**
   * Stores an override set. With `maxPerTenant`, one past that many (expired ones included)
   * throws DictionaryLimitError; counted inside a tenant write (see putApi), so concurrent
   * creations cannot all pass the count.
   */
  async createOverride(set: OverrideSet, maxPerTenant?: number): Promise<void> {
    const insert = async (tx: SqlExecutor) => {
      await tx.execute(
        `insert into dictionary_overrides (id, tenant, name, patch, created_by, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [
          set.id,
          set.tenant,
          set.name,
          JSON.stringify(set.patch),
          set.createdBy,
          set.createdAt,
          set.expiresAt,
        ],
      );
    };
    if (maxPerTenant === undefined) return insert(this.#db);
    await this.#write(set.tenant, async (tx) => {
      const [row] = await tx.query<{ n: number }>(
        'select count(*) as n from dictionary_overrides where tenant = $1',
        [set.tenant],
      );
      if (Number(row?.n ?? 0) >= maxPerTenant)
        throw new DictionaryLimitError(
          `the limit of ${maxPerTenant} override sets is reached; delete one first`,
        );
      await insert(tx);
    });
  }

  async getOverride(id: string): Promise<OverrideSet | undefined> {
    const [row] = await this.#db.query('select * from dictionary_overrides where id = $1', [id]);
    return row ? toOverride(row) : undefined;
  }

  async listOverrides(tenant: string, limit: number): Promise<OverrideSet[]> {
    const rows = await this.#db.query(
      'select * from dictionary_overrides where tenant = $1 order by created_at desc, id limit $2',
      [tenant, limit],
    );
    return rows.map(toOverride);
  }

  async countOverrides(tenant: string): Promise<number> {
    const [row] = await this.#db.query<{ n: number }>(
      'select count(*) as n from dictionary_overrides where tenant = $1',
      [tenant],
    );
    return Number(row?.n ?? 0);
  }

  async deleteOverride(tenant: string, id: string): Promise<boolean> {
    return (
      (await this.#db.execute('delete from dictionary_overrides where tenant = $1 and id = $2', [
        tenant,
        id,
      ])) > 0
    );
  }

  /** Removes override sets that expired before `before` (epoch ms). */
  async purgeOverrides(before: number): Promise<number> {
    return this.#db.execute('delete from dictionary_overrides where expires_at < $1', [before]);
  }

  /** Runs a write with the tenant's revision bumped first (which also serialises writers). */
  async #write<T>(tenant: string, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (tx) => {
      await tx.execute(
        `insert into dictionary_tenants (tenant, revision, anonymous) values ($1, 1, 0)
         on conflict (tenant) do update set revision = dictionary_tenants.revision + 1`,
        [tenant],
      );
      return work(tx);
    });
  }
}

/**
 * A condition on an API as stored (its JSON, undefined when there is none), checked inside
 * the write: a conditional request (`If-Match`) cannot lose a concurrent update.
 */
export type StoredPrecondition = (stored: string | undefined) => boolean;

/** A write's precondition did not hold: nothing was written. */
export class DictionaryPreconditionError extends Error {}

async function checkPrecondition(
  tx: SqlExecutor,
  tenant: string,
  name: string,
  precondition: StoredPrecondition,
): Promise<void> {
  const [row] = await tx.query<{ doc: string }>(
    'select doc from dictionary_apis where tenant = $1 and name = $2',
    [tenant, name],
  );
  if (!precondition(row?.doc))
    throw new DictionaryPreconditionError(
      row
        ? `API "${name}" as stored does not meet If-Match / If-None-Match (changed since read, or it exists)`
        : `no API "${name}" exists to match If-Match`,
    );
}

function toOverride(row: Record<string, unknown>): OverrideSet {
  return {
    id: String(row.id),
    tenant: String(row.tenant),
    name: String(row.name),
    patch: JSON.parse(String(row.patch)) as PatchEntry[],
    createdBy: String(row.created_by),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
