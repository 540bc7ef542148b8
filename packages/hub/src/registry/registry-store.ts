/**
 * The registry's rows (see migrations.ts). Thin: every method is one or two statements;
 * the rules (compatibility, identity, deletion order) live in schema-registry.ts. Methods
 * take the executor to run on, so the same code serves reads and a write transaction.
 */
import type { Row, SqlDatabase, SqlExecutor } from '../store/sql-database.ts';
import type { SchemaReference } from './schema-text.ts';

export type StoredSchema = { id: number; text: string; references: SchemaReference[] };
export type StoredVersion = {
  subject: string;
  version: number;
  schemaId: number;
  deleted: boolean;
};
export type StoredConfig = {
  compatibility: string | null;
  validation: string | null;
  allowOptionalInOpen: boolean | null;
};

/** The tenant-wide config row's subject. */
export const GLOBAL = '';

export class RegistryStore {
  readonly db: SqlDatabase;
  readonly #clock: () => number;

  constructor(db: SqlDatabase, clock: () => number = Date.now) {
    this.db = db;
    this.#clock = clock;
  }

  /** Runs a registry write: bumps the state version first (serialises writers, see migrations.ts). */
  write<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) => {
      await tx.execute('update registry_state set version = version + 1 where id = 1');
      return work(tx);
    });
  }

  async stateVersion(): Promise<number> {
    const [row] = await this.db.query<{ v: number }>(
      'select version as v from registry_state where id = 1',
    );
    return Number(row?.v ?? 0);
  }

  async schemaByFingerprint(
    q: SqlExecutor,
    tenant: string,
    fingerprint: string,
  ): Promise<StoredSchema | undefined> {
    const [row] = await q.query(
      'select id, schema_text, refs from registry_schemas where tenant = $1 and fingerprint = $2',
      [tenant, fingerprint],
    );
    return row ? toSchema(row) : undefined;
  }

  async schemaById(q: SqlExecutor, tenant: string, id: number): Promise<StoredSchema | undefined> {
    const [row] = await q.query(
      'select id, schema_text, refs from registry_schemas where tenant = $1 and id = $2',
      [tenant, id],
    );
    return row ? toSchema(row) : undefined;
  }

  /** Stores a new schema under the next hub-wide id. Call inside `write`. */
  async insertSchema(
    tx: SqlExecutor,
    tenant: string,
    fingerprint: string,
    text: string,
    references: readonly SchemaReference[],
  ): Promise<number> {
    const [row] = await tx.query<{ id: number }>(
      'update registry_state set next_schema_id = next_schema_id + 1 where id = 1 returning next_schema_id - 1 as id',
    );
    const id = Number(row!.id);
    await tx.execute(
      `insert into registry_schemas (tenant, id, fingerprint, schema_text, refs, created_at)
       values ($1, $2, $3, $4, $5, $6)`,
      [tenant, id, fingerprint, text, JSON.stringify(references), this.#clock()],
    );
    for (const ref of references)
      await tx.execute(
        'insert into registry_schema_refs (tenant, schema_id, name, subject, version) values ($1, $2, $3, $4, $5)',
        [tenant, id, ref.name, ref.subject, ref.version],
      );
    return id;
  }

  /** A subject's versions, oldest first. */
  async versions(
    q: SqlExecutor,
    tenant: string,
    subject: string,
    includeDeleted: boolean,
  ): Promise<StoredVersion[]> {
    const rows = await q.query(
      `select subject, version, schema_id, deleted from registry_versions
       where tenant = $1 and subject = $2 ${includeDeleted ? '' : 'and deleted = 0'} order by version`,
      [tenant, subject],
    );
    return rows.map(toVersion);
  }

  async version(
    q: SqlExecutor,
    tenant: string,
    subject: string,
    version: number,
  ): Promise<StoredVersion | undefined> {
    const [row] = await q.query(
      'select subject, version, schema_id, deleted from registry_versions where tenant = $1 and subject = $2 and version = $3',
      [tenant, subject, version],
    );
    return row ? toVersion(row) : undefined;
  }

  async insertVersion(
    tx: SqlExecutor,
    tenant: string,
    subject: string,
    version: number,
    schemaId: number,
  ): Promise<void> {
    await tx.execute(
      `insert into registry_versions (tenant, subject, version, schema_id, deleted, created_at)
       values ($1, $2, $3, $4, 0, $5)`,
      [tenant, subject, version, schemaId, this.#clock()],
    );
  }

  async setDeleted(tx: SqlExecutor, tenant: string, subject: string, versions: number[]) {
    for (const v of versions)
      await tx.execute(
        'update registry_versions set deleted = 1 where tenant = $1 and subject = $2 and version = $3',
        [tenant, subject, v],
      );
  }

  /** Removes version rows, then the schemas no version uses any more. */
  async removeVersions(tx: SqlExecutor, tenant: string, subject: string, versions: number[]) {
    for (const v of versions)
      await tx.execute(
        'delete from registry_versions where tenant = $1 and subject = $2 and version = $3',
        [tenant, subject, v],
      );
    const orphans = await tx.query<{ id: number }>(
      `select s.id from registry_schemas s where s.tenant = $1
       and not exists (select 1 from registry_versions v where v.tenant = s.tenant and v.schema_id = s.id)`,
      [tenant],
    );
    for (const { id } of orphans) {
      await tx.execute('delete from registry_schema_refs where tenant = $1 and schema_id = $2', [
        tenant,
        id,
      ]);
      await tx.execute('delete from registry_schemas where tenant = $1 and id = $2', [tenant, id]);
    }
  }

  /**
   * Versions whose schema references `subject` `version`: the live ones, or with
   * `includeDeleted` the soft-deleted ones too (their schemas are still stored).
   */
  async referencedBy(
    q: SqlExecutor,
    tenant: string,
    subject: string,
    version: number,
    includeDeleted = false,
  ): Promise<{ subject: string; version: number; schemaId: number; deleted: boolean }[]> {
    const rows = await q.query<{
      subject: string;
      version: number;
      schema_id: number;
      deleted: number;
    }>(
      `select v.subject, v.version, v.schema_id, v.deleted from registry_schema_refs r
       join registry_versions v on v.tenant = r.tenant and v.schema_id = r.schema_id ${includeDeleted ? '' : 'and v.deleted = 0'}
       where r.tenant = $1 and r.subject = $2 and r.version = $3 order by v.subject, v.version`,
      [tenant, subject, version],
    );
    return rows.map((r) => ({
      subject: r.subject,
      version: Number(r.version),
      schemaId: Number(r.schema_id),
      deleted: Number(r.deleted) === 1,
    }));
  }

  async subjects(q: SqlExecutor, tenant: string, includeDeleted: boolean): Promise<string[]> {
    const rows = await q.query<{ subject: string }>(
      `select distinct subject from registry_versions where tenant = $1 ${includeDeleted ? '' : 'and deleted = 0'} order by subject`,
      [tenant],
    );
    return rows.map((r) => r.subject);
  }

  /** Where a schema id is used: every (subject, version), soft-deleted ones too. */
  async usesOfSchema(
    q: SqlExecutor,
    tenant: string,
    id: number,
  ): Promise<{ subject: string; version: number; deleted: boolean }[]> {
    const rows = await q.query(
      'select subject, version, deleted from registry_versions where tenant = $1 and schema_id = $2 order by subject, version',
      [tenant, id],
    );
    return rows.map((r) => ({
      subject: r['subject'] as string,
      version: Number(r['version']),
      deleted: Number(r['deleted']) === 1,
    }));
  }

  async config(q: SqlExecutor, tenant: string, subject: string): Promise<StoredConfig | undefined> {
    const [row] = await q.query(
      'select compatibility, validation, allow_optional_in_open from registry_config where tenant = $1 and subject = $2',
      [tenant, subject],
    );
    if (!row) return undefined;
    const open = row['allow_optional_in_open'];
    return {
      compatibility: (row['compatibility'] as string | null) ?? null,
      validation: (row['validation'] as string | null) ?? null,
      allowOptionalInOpen: open === null || open === undefined ? null : Number(open) === 1,
    };
  }

  async putConfig(tx: SqlExecutor, tenant: string, subject: string, config: StoredConfig) {
    await tx.execute(
      `insert into registry_config (tenant, subject, compatibility, validation, allow_optional_in_open)
       values ($1, $2, $3, $4, $5)
       on conflict (tenant, subject) do update set compatibility = excluded.compatibility,
         validation = excluded.validation, allow_optional_in_open = excluded.allow_optional_in_open`,
      [
        tenant,
        subject,
        config.compatibility,
        config.validation,
        config.allowOptionalInOpen === null ? null : config.allowOptionalInOpen ? 1 : 0,
      ],
    );
  }

  async deleteConfig(tx: SqlExecutor, tenant: string, subject: string): Promise<void> {
    await tx.execute('delete from registry_config where tenant = $1 and subject = $2', [
      tenant,
      subject,
    ]);
  }
}

function toSchema(row: Row): StoredSchema {
  return {
    id: Number(row['id']),
    text: row['schema_text'] as string,
    references: JSON.parse(row['refs'] as string) as SchemaReference[],
  };
}

function toVersion(row: Row): StoredVersion {
  return {
    subject: row['subject'] as string,
    version: Number(row['version']),
    schemaId: Number(row['schema_id']),
    deleted: Number(row['deleted']) === 1,
  };
}
