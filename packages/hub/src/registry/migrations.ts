/**
 * The schema registry's tables. Everything is keyed by tenant: a tenant's subjects, ids,
 * and configs are invisible to every other tenant.
 *
 * - `registry_schemas`: one row per distinct schema (per tenant): the same schema text and
 *   references registered under two subjects, or twice, keep one id. Ids come from one
 *   hub-wide counter (`registry_state.next_schema_id`), so an id never means two schemas,
 *   even across tenants (the Confluent wire format puts the id in front of each message).
 * - `registry_schema_refs`: the references of each schema (also in `registry_schemas.refs`,
 *   in order), indexed by target so that deleting a referenced version can be refused.
 * - `registry_versions`: the versions of a subject. Soft-deleted versions keep their row
 *   (`deleted = 1`), so version numbers are never reused.
 * - `registry_config`: compatibility, validation mode and the open-content-model choice per
 *   subject; subject `''` is the tenant's global config. NULL columns inherit.
 * - `registry_state.version` is bumped by every write in the same transaction, first: the
 *   row lock serialises registry writes on PostgreSQL (so "check compatibility, then
 *   insert" cannot race), and hub nodes compare it to drop their publish-time caches.
 */
import type { Migration } from '../store/sql-database.ts';

const CREATE = `
create table registry_schemas (
  tenant text not null,
  id integer not null,
  fingerprint text not null,
  schema_text text not null,
  refs text not null,
  created_at bigint not null,
  primary key (tenant, id)
);
create unique index registry_schemas_fingerprint on registry_schemas (tenant, fingerprint);
create unique index registry_schemas_id on registry_schemas (id);
create table registry_schema_refs (
  tenant text not null,
  schema_id integer not null,
  name text not null,
  subject text not null,
  version integer not null,
  primary key (tenant, schema_id, name)
);
create index registry_schema_refs_target on registry_schema_refs (tenant, subject, version);
create table registry_versions (
  tenant text not null,
  subject text not null,
  version integer not null,
  schema_id integer not null,
  deleted integer not null,
  created_at bigint not null,
  primary key (tenant, subject, version)
);
create index registry_versions_schema on registry_versions (tenant, schema_id);
create table registry_config (
  tenant text not null,
  subject text not null,
  compatibility text,
  validation text,
  allow_optional_in_open integer,
  primary key (tenant, subject)
);
create table registry_state (id integer primary key, version bigint not null, next_schema_id integer not null);
insert into registry_state (id, version, next_schema_id) values (1, 0, 1);
`;

export const REGISTRY_MIGRATIONS: Migration[] = [
  { id: 'registry/001-create', sqlite: CREATE, postgres: CREATE },
];
