/**
 * The routing tables. `routing_state.rules_version` is bumped by every rule write, in the
 * same transaction: hub nodes compare it (one cheap row) to know when to rebuild their
 * matcher, and bumping it first serialises rule writes on PostgreSQL (the row lock), so
 * the per-owner limit and name uniqueness are checked without races.
 */
import type { Migration } from '../store/sql-database.ts';

const CREATE = `
create table routing_rules (
  id text primary key,
  owner text not null,
  name text not null,
  description text not null,
  enabled integer not null,
  pattern text not null,
  targets text not null,
  created_at bigint not null,
  updated_at bigint not null,
  revision integer not null
);
create unique index routing_rules_owner_name on routing_rules (owner, name);
create table routing_state (id integer primary key, rules_version bigint not null);
insert into routing_state (id, rules_version) values (1, 0);
`;

export const ROUTING_MIGRATIONS: Migration[] = [
  { id: 'routing/001-rules', sqlite: CREATE, postgres: CREATE },
];
