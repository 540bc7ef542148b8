/**
 * A small portal for contract tests: two apps that publish and consume each other's
 * events, one payload schema inline in a manifest, one in the schema registry (named by a
 * `schemaRef`), one event without a schema, and a registry subject that overrides an
 * inline declaration.
 */
import type { TestHub } from '../../testing/test-hub.ts';

export const INCIDENT_CREATED_INLINE = {
  type: 'object',
  required: ['id', 'severity'],
  properties: {
    id: { type: 'string' },
    severity: { enum: ['low', 'medium', 'high'] },
    title: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
  },
};

/** Registered after the manifests: the registry's schema wins over the inline one. */
export const INCIDENT_CREATED_REGISTERED = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'Incident ticket created',
  type: 'object',
  required: ['id', 'severity'],
  properties: {
    ...INCIDENT_CREATED_INLINE.properties,
    assignee: { $ref: '#/$defs/Person' },
  },
  $defs: {
    Person: {
      type: 'object',
      required: ['email'],
      properties: { email: { type: 'string' }, name: { type: 'string' } },
    },
  },
};

export const INVOICE_PAID_REGISTERED = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['invoiceId', 'amount'],
  properties: {
    invoiceId: { type: 'string' },
    amount: { type: 'number', minimum: 0 },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    payer: { $ref: '#/$defs/Person' },
  },
  $defs: { Person: { type: 'object', properties: { id: { type: 'integer' } } } },
};

const incidents = {
  name: 'incidents',
  owner: { team: 'ops', contact: 'ops@acme.example' },
  domain: 'incident',
  events: {
    publishes: [{ type: 'incident.ticket.created', schema: INCIDENT_CREATED_INLINE }],
    consumes: [{ type: 'billing.invoice.paid', schemaRef: 'billing.invoice.paid' }],
  },
};

const billing = {
  name: 'billing',
  owner: { team: 'payments', contact: 'payments@acme.example' },
  domain: 'billing',
  events: {
    publishes: [
      { type: 'billing.invoice.paid', schemaRef: 'billing.invoice.paid' },
      { type: 'billing.invoice.voided' },
    ],
    consumes: [
      {
        type: 'incident.ticket.created',
        schema: { type: 'object', properties: { id: { type: 'string' } } },
      },
    ],
  },
};

/** Registers the schemas and both apps for `tenant`; throws on any refusal. */
export async function seedPortalContracts(t: TestHub, tenant: string): Promise<void> {
  const headers = {
    ...(await t.auth(tenant, ['schemas:write', 'events:read'])),
    'content-type': 'application/json',
  };
  const send = async (method: 'POST' | 'PUT', url: string, body: unknown) => {
    const res = await t.hub.server.inject({ method, url, headers, payload: JSON.stringify(body) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  };
  const register = (subject: string, schema: object) =>
    send('POST', `/v1/registry/subjects/${subject}/versions`, {
      schemaType: 'JSON',
      schema: JSON.stringify(schema),
    });
  await register('billing.invoice.paid', INVOICE_PAID_REGISTERED);
  await send('PUT', '/v1/catalog/apps/incidents', incidents);
  await send('PUT', '/v1/catalog/apps/billing', billing);
  await register('incident.ticket.created', INCIDENT_CREATED_REGISTERED);
}
