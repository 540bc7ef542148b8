/** The BFF compositions table (owned by the gateway). */
import type { Migration } from '../../store/sql-database.ts';

const CREATE = `
create table gateway_compositions (
  tenant text not null,
  name text not null,
  doc text not null,
  updated_at bigint not null,
  primary key (tenant, name)
);
`;

export const BFF_MIGRATIONS: Migration[] = [
  { id: 'gateway/001-compositions', sqlite: CREATE, postgres: CREATE },
];
