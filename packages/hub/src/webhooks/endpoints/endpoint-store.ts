/** Webhook endpoints in the state store. All of the capability's SQL is here. */
import type { Row, SqlDatabase, SqlExecutor } from '../../store/sql-database.ts';
import type { Pattern } from '../../routing/pattern/index.ts';
import type { DisabledReason, Endpoint, EndpointSecrets } from './endpoint.ts';

/** The fields an update may change. */
export type EndpointChanges = Partial<
  Pick<
    Endpoint,
    | 'url'
    | 'description'
    | 'eventTypes'
    | 'filter'
    | 'rateLimitPerSecond'
    | 'concurrency'
    | 'ed25519'
    | 'secrets'
    | 'ruleId'
  >
>;

const COLUMN: Record<keyof EndpointChanges, string> = {
  url: 'url',
  description: 'description',
  eventTypes: 'event_types',
  filter: 'filter',
  rateLimitPerSecond: 'rate_limit',
  concurrency: 'concurrency',
  ed25519: 'ed25519',
  secrets: 'secrets',
  ruleId: 'rule_id',
};

/**
 * Writes take an optional `tx` (a transaction's executor): the service changes an endpoint
 * and its rule in one transaction (see endpoint-service.ts). Without it, one statement.
 */
export class EndpointStore {
  readonly #db: SqlDatabase;

  constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /**
   * The endpoint as stored, locked until `tx` ends (PostgreSQL: `for update`, so other
   * nodes' and connections' writers of the row wait; SQLite runs one write transaction
   * at a time anyway, and has no `for update`).
   */
  async lock(tx: SqlExecutor, id: string): Promise<Endpoint | undefined> {
    const forUpdate = this.#db.dialect === 'postgres' ? ' for update' : '';
    const [row] = await tx.query(`select * from webhook_endpoints where id = $1${forUpdate}`, [id]);
    return row ? toEndpoint(row) : undefined;
  }

  /** Runs `work` in one transaction with the endpoint locked (see `lock`). */
  async locked<T>(
    id: string,
    work: (tx: SqlExecutor, endpoint: Endpoint | undefined) => Promise<T>,
  ): Promise<T> {
    return this.#db.transaction(async (tx) => work(tx, await this.lock(tx, id)));
  }

  async insert(e: Endpoint, tx: SqlExecutor = this.#db): Promise<void> {
    await tx.execute(
      `insert into webhook_endpoints (id, tenant, url, description, event_types, filter, enabled,
         disabled_reason, disabled_at, rate_limit, concurrency, ed25519, secrets, rule_id,
         failing_since, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [
        e.id,
        e.tenant,
        e.url,
        e.description,
        JSON.stringify(e.eventTypes),
        e.filter === null ? null : JSON.stringify(e.filter),
        e.enabled ? 1 : 0,
        e.disabledReason,
        e.disabledAt,
        e.rateLimitPerSecond,
        e.concurrency,
        e.ed25519 ? 1 : 0,
        JSON.stringify(e.secrets),
        e.ruleId,
        e.failingSince,
        e.createdAt,
        e.updatedAt,
      ],
    );
  }

  async get(id: string): Promise<Endpoint | undefined> {
    const [row] = await this.#db.query('select * from webhook_endpoints where id = $1', [id]);
    return row ? toEndpoint(row) : undefined;
  }

  /** A tenant's endpoints, oldest first; `after` is the previous page's last id. */
  async list(tenant: string, page: { limit: number; after?: Endpoint }): Promise<Endpoint[]> {
    const rows = page.after
      ? await this.#db.query(
          `select * from webhook_endpoints where tenant = $1
             and (created_at > $2 or (created_at = $2 and id > $3))
           order by created_at, id limit $4`,
          [tenant, page.after.createdAt, page.after.id, page.limit],
        )
      : await this.#db.query(
          'select * from webhook_endpoints where tenant = $1 order by created_at, id limit $2',
          [tenant, page.limit],
        );
    return rows.map(toEndpoint);
  }

  async all(): Promise<Endpoint[]> {
    return (await this.#db.query('select * from webhook_endpoints')).map(toEndpoint);
  }

  async count(tenant: string, tx: SqlExecutor = this.#db): Promise<number> {
    const [row] = await tx.query<{ n: number }>(
      'select count(*) as n from webhook_endpoints where tenant = $1',
      [tenant],
    );
    return Number(row?.n ?? 0);
  }

  async update(
    id: string,
    changes: EndpointChanges,
    now: number,
    tx: SqlExecutor = this.#db,
  ): Promise<void> {
    const sets: string[] = [];
    const params: unknown[] = [id, now];
    for (const [key, value] of Object.entries(changes) as [keyof EndpointChanges, unknown][]) {
      if (value === undefined) continue;
      let stored: unknown = value;
      if (key === 'eventTypes' || key === 'secrets') stored = JSON.stringify(value);
      else if (key === 'filter') stored = value === null ? null : JSON.stringify(value);
      else if (key === 'ed25519') stored = value ? 1 : 0;
      params.push(stored);
      sets.push(`${COLUMN[key]} = $${params.length}`);
    }
    await tx.execute(
      `update webhook_endpoints set ${[...sets, 'updated_at = $2'].join(', ')} where id = $1`,
      params,
    );
  }

  /**
   * Enables or disables; true only if this call changed the state (so one node, once,
   * tells the tenant about an automatic disable).
   */
  async setEnabled(
    id: string,
    enabled: boolean,
    reason: DisabledReason | null,
    now: number,
    tx: SqlExecutor = this.#db,
  ): Promise<boolean> {
    return (
      (await tx.execute(
        enabled
          ? `update webhook_endpoints set enabled = 1, disabled_reason = null, disabled_at = null,
               failing_since = null, updated_at = $2 where id = $1 and enabled = 0`
          : `update webhook_endpoints set enabled = 0, disabled_reason = $3, disabled_at = $2,
               updated_at = $2 where id = $1 and enabled = 1`,
        enabled ? [id, now] : [id, now, reason],
      )) > 0
    );
  }

  /** Records the start of a failing streak (kept if one is running); returns the streak's start. */
  async markFailing(id: string, now: number): Promise<number> {
    await this.#db.execute(
      'update webhook_endpoints set failing_since = $2 where id = $1 and failing_since is null',
      [id, now],
    );
    const [row] = await this.#db.query<{ f: number | null }>(
      'select failing_since as f from webhook_endpoints where id = $1',
      [id],
    );
    return row?.f === null || row?.f === undefined ? now : Number(row.f);
  }

  async clearFailing(id: string): Promise<void> {
    await this.#db.execute(
      'update webhook_endpoints set failing_since = null where id = $1 and failing_since is not null',
      [id],
    );
  }

  async delete(id: string, tx: SqlExecutor = this.#db): Promise<boolean> {
    return (await tx.execute('delete from webhook_endpoints where id = $1', [id])) > 0;
  }
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toEndpoint(r: Row): Endpoint {
  return {
    id: r['id'] as string,
    tenant: r['tenant'] as string,
    url: r['url'] as string,
    description: r['description'] as string,
    eventTypes: JSON.parse(r['event_types'] as string) as string[],
    filter: r['filter'] === null ? null : (JSON.parse(r['filter'] as string) as Pattern),
    enabled: Number(r['enabled']) === 1,
    disabledReason: (r['disabled_reason'] as DisabledReason | null) ?? null,
    disabledAt: num(r['disabled_at']),
    rateLimitPerSecond: num(r['rate_limit']),
    concurrency: Number(r['concurrency']),
    ed25519: Number(r['ed25519']) === 1,
    secrets: JSON.parse(r['secrets'] as string) as EndpointSecrets,
    ruleId: (r['rule_id'] as string | null) ?? null,
    failingSince: num(r['failing_since']),
    createdAt: Number(r['created_at']),
    updatedAt: Number(r['updated_at']),
  };
}
