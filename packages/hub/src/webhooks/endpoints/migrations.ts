/**
 * The webhook endpoints table. Signing secrets live here (the state store), as JSON in
 * `secrets`; the API shows them only when it creates them (creation, rotation).
 */
import type { Migration } from '../../store/sql-database.ts';

const CREATE = `
create table webhook_endpoints (
  id text primary key,
  tenant text not null,
  url text not null,
  description text not null,
  event_types text not null,
  filter text,
  enabled integer not null,
  disabled_reason text,
  disabled_at bigint,
  rate_limit integer,
  concurrency integer not null,
  ed25519 integer not null,
  secrets text not null,
  rule_id text,
  failing_since bigint,
  created_at bigint not null,
  updated_at bigint not null
);
create index webhook_endpoints_tenant on webhook_endpoints (tenant, created_at, id);
`;

export const WEBHOOK_MIGRATIONS: Migration[] = [
  { id: 'webhooks/001-endpoints', sqlite: CREATE, postgres: CREATE },
];
