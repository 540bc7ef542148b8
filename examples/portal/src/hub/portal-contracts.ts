/**
 * The demo portal's contracts: event payload schemas and one `portico.app.json` manifest per
 * micro-app. In a real portal each team keeps its manifest in its own repository and its CI
 * runs `portico app publish`; here they are built in code because the UI entry URLs depend
 * on the ports the demo got.
 */

/** Server-side event, published through the hub and validated there (schema registry). */
export const INCIDENT_CREATED = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'incident.ticket.created',
  type: 'object',
  required: ['id', 'title', 'severity', 'customer'],
  properties: {
    id: { type: 'string', pattern: '^INC-[0-9]+$' },
    title: { type: 'string', minLength: 1, maxLength: 200 },
    severity: { enum: ['low', 'high'] },
    customer: { type: 'string', pattern: '^[a-z0-9-]+$' },
  },
  additionalProperties: false,
};

/** Client bus event: a user picked an incident in the list (micro-frontend to micro-frontend). */
const INCIDENT_SELECTED = {
  type: 'object',
  required: ['id', 'customer'],
  properties: {
    id: { type: 'string', pattern: '^INC-[0-9]+$' },
    customer: { type: 'string' },
    severity: { enum: ['low', 'high'] },
  },
  additionalProperties: false,
};

/** Client bus event: what the shell passes to the untrusted widget (no customer names). */
const INCIDENT_ANNOUNCED = {
  type: 'object',
  required: ['id', 'severity', 'title'],
  properties: {
    id: { type: 'string' },
    severity: { enum: ['low', 'high'] },
    title: { type: 'string', maxLength: 200 },
  },
  additionalProperties: false,
};

export type FrontendOrigins = { shell: string; incidents: string; billing: string; widget: string };

/** A `portico.app.json` manifest (validated by the hub; only `name` matters here). */
export type AppManifest = { name: string; [field: string]: unknown };

export function portalManifests(origins: FrontendOrigins): AppManifest[] {
  const owner = (team: string) => ({ team, contact: `${team}@acme.example` });
  return [
    {
      name: 'portal-shell',
      version: '1.0.0',
      description:
        'The application shell; its publish button stands in for an incident intake form',
      owner: owner('platform'),
      domain: 'portal',
      ui: { entry: `${origins.shell}/`, route: '/' },
      events: {
        publishes: [
          { type: 'incident.ticket.created', schemaRef: 'incident.ticket.created' },
          { type: 'incident.ticket.announced', schema: INCIDENT_ANNOUNCED },
        ],
      },
      scopes: ['events:publish', 'events:read'],
    },
    {
      name: 'incidents',
      version: '2.3.0',
      description: 'Incident list (a Web Component)',
      owner: owner('sre'),
      domain: 'incident',
      ui: { entry: `${origins.incidents}/incidents-list.js`, route: '/incidents' },
      apis: [{ name: 'incidents', openapi: incidentsOpenApi() }],
      events: {
        publishes: [{ type: 'incident.ticket.selected', schema: INCIDENT_SELECTED }],
        consumes: [{ type: 'incident.ticket.created', schemaRef: 'incident.ticket.created' }],
      },
      scopes: ['events:read'],
      slas: { availabilityPercent: 99.9, maxEventLagSeconds: 2 },
    },
    {
      name: 'billing',
      version: '1.8.0',
      description: 'Billing panel (React)',
      owner: owner('payments'),
      domain: 'billing',
      ui: { entry: `${origins.billing}/billing-panel.js`, route: '/billing' },
      events: {
        consumes: [
          { type: 'incident.ticket.created', schemaRef: 'incident.ticket.created' },
          { type: 'incident.ticket.selected', schema: INCIDENT_SELECTED },
        ],
      },
      scopes: ['events:read'],
    },
    {
      name: 'status-widget',
      version: '0.4.0',
      description:
        'A third-party status widget, sandboxed in an iframe, reached only by the bus bridge',
      owner: owner('vendor'),
      domain: 'status',
      ui: { entry: `${origins.widget}/`, route: '/status' },
      events: { consumes: [{ type: 'incident.ticket.announced', schema: INCIDENT_ANNOUNCED }] },
    },
  ];
}

function incidentsOpenApi(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'Incidents', version: '1.0.0' },
    paths: {
      '/incidents': {
        get: {
          parameters: [{ name: 'status', in: 'query', schema: { enum: ['open', 'resolved'] } }],
          responses: { '200': { description: 'incidents, newest first' } },
        },
      },
    },
  };
}
