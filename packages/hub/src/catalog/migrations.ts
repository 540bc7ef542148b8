/**
 * The catalog's tables, keyed by tenant. `catalog_apps` holds each app's current manifest
 * (inline documents, JSON text) and its revision; `catalog_app_revisions` every accepted
 * revision with the changes it made and whether it was forced past a breaking change.
 * Writes are optimistic: an update names the revision it was checked against, so two
 * concurrent publishes cannot both pass a check made against the same old version.
 */
import type { Migration } from '../store/sql-database.ts';

const CREATE = `
create table catalog_apps (
  tenant text not null,
  name text not null,
  revision integer not null,
  manifest text not null,
  created_at bigint not null,
  updated_at bigint not null,
  primary key (tenant, name)
);
create table catalog_app_revisions (
  tenant text not null,
  name text not null,
  revision integer not null,
  manifest text not null,
  forced integer not null,
  changes text not null,
  created_at bigint not null,
  primary key (tenant, name, revision)
);
`;

export const CATALOG_MIGRATIONS: Migration[] = [
  { id: 'catalog/001-apps', sqlite: CREATE, postgres: CREATE },
];
