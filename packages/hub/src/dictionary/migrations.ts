/**
 * The dictionary's tables. `dictionary_tenants.revision` is bumped by every write to a
 * tenant's APIs, settings or access, in the same transaction: hub nodes compare it (one
 * row) to know when their cached copy of that tenant's dictionary is stale.
 */
import type { Migration } from '../store/sql-database.ts';

const CREATE = `
create table dictionary_tenants (
  tenant text primary key,
  revision bigint not null,
  anonymous integer not null
);
create table dictionary_apis (
  tenant text not null,
  name text not null,
  doc text not null,
  updated_at bigint not null,
  primary key (tenant, name)
);
create table dictionary_settings (
  tenant text not null,
  app text not null,
  settings text not null,
  updated_at bigint not null,
  primary key (tenant, app)
);
create table dictionary_overrides (
  id text primary key,
  tenant text not null,
  name text not null,
  patch text not null,
  created_by text not null,
  created_at bigint not null,
  expires_at bigint not null
);
create index dictionary_overrides_tenant on dictionary_overrides (tenant, created_at);
`;

export const DICTIONARY_MIGRATIONS: Migration[] = [
  { id: 'dictionary/001-create', sqlite: CREATE, postgres: CREATE },
];
