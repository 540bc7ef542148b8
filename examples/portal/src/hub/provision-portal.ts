import { INCIDENT_CREATED, portalManifests, type FrontendOrigins } from './portal-contracts.ts';

export type ProvisionTargets = {
  hub: string;
  /** A token with the admin-side scopes of one tenant. */
  token: string;
  incidentsApi: string;
  billingApi: string;
  /** The billing canary, reached only through the override set. */
  billingCanary: string;
  webhookUrl: string;
  origins: FrontendOrigins;
};

export type Provisioned = { webhookSecret: string; endpointId: string; canaryOverride: string };

/**
 * Sets the tenant up through the hub's public HTTP API, as a platform team would:
 * dictionary, BFF composition, schema, app manifests, webhook endpoint, routing rules and
 * consumer groups. Each step is printed by the caller; a refusal stops the demo with the
 * hub's problem detail.
 */
export async function provisionPortal(
  t: ProvisionTargets,
  progress: (line: string) => void,
): Promise<Provisioned> {
  const call = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${t.hub}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${t.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  await call('PUT', '/v1/dictionary/apis/incidents', {
    domain: 'operations',
    description: 'Incident tickets',
    versions: [{ version: 'v1', upstream: t.incidentsApi }],
  });
  await call('PUT', '/v1/dictionary/apis/billing', {
    domain: 'finance',
    description: 'Accounts and revenue',
    versions: [{ version: 'v1', upstream: t.billingApi, policy: { cache: true } }],
  });
  // The BFF is listed too, so micro-frontends find every URL in one place.
  await call('PUT', '/v1/dictionary/apis/portal-bff', {
    domain: 'portal',
    description: 'Backend-for-frontend compositions of the portal views',
    versions: [{ version: 'v1', baseUrl: `${t.hub}/bff` }],
  });
  await call('PUT', '/v1/dictionary/settings/*', {
    refreshSeconds: 300,
    features: { showRevenue: true, incidentListSize: 8 },
  });
  progress(
    'service dictionary: incidents v1, billing v1 (through the gateway), portal-bff v1, client settings',
  );

  await call('PUT', '/v1/bff/compositions/dashboard', {
    parts: {
      incidents: { api: 'incidents', version: 'v1', path: '/incidents?status=open' },
      billing: { api: 'billing', version: 'v1', path: '/summary', required: false },
    },
    shape:
      '{ "openIncidents": $count(incidents.items), "highOpen": $count(incidents.items[severity = "high"]), "mrr": billing.mrr, "currency": billing.currency, "overdueInvoices": billing.overdueInvoices, "billingVariant": billing.variant }',
  });
  progress('BFF composition: GET /bff/dashboard = open incidents + billing summary');

  // Testing in production: a browser that presents this id (URL flag, cookie or header) gets
  // the billing canary; everyone else keeps the stable upstream.
  const override = await call<{ id: string }>('POST', '/v1/dictionary/overrides', {
    name: 'billing-canary',
    ttlSeconds: 86_400,
    patch: [{ api: 'billing', version: 'v1', upstream: t.billingCanary }],
  });
  progress(`override set "billing-canary": billing v1 → the canary, for browsers that ask`);

  await call('POST', '/v1/registry/subjects/incident.ticket.created/versions', {
    schemaType: 'JSON',
    schema: JSON.stringify(INCIDENT_CREATED),
  });
  progress('schema registry: incident.ticket.created v1 (the hub validates every publish)');
  // One at a time: each publish is checked against the apps already in the catalog.
  for (const manifest of portalManifests(t.origins)) {
    const started = Date.now();
    await call('PUT', `/v1/catalog/apps/${manifest.name}`, manifest);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    progress(`catalog: app manifest "${manifest.name}" checked and stored (${seconds} s)`);
  }

  const endpoint = await call<{ id: string; secret: string }>('POST', '/v1/webhooks/endpoints', {
    url: t.webhookUrl,
    description: 'on-call paging system (the demo receiver)',
    eventTypes: ['incident.ticket.created'],
    filter: { data: { severity: ['high'] } },
  });
  await call('POST', '/v1/rules', {
    name: 'page-oncall',
    description: 'high-severity incidents go to the on-call push channel',
    pattern: { type: ['incident.ticket.created'], data: { severity: ['high'] } },
    targets: [{ kind: 'push', channel: 'oncall' }],
  });
  await call('POST', '/v1/rules', {
    name: 'triage-low',
    description: 'low-severity incidents wait in the triage queue',
    pattern: { type: ['incident.ticket.created'], data: { severity: ['low'] } },
    targets: [{ kind: 'queue', queue: 'triage' }],
  });
  await call('PUT', '/v1/consumer-groups/triage-desk', {
    topic: 'portico.*.queue.triage',
    startAt: 'beginning',
  });
  // The incidents service learns about new tickets from the hub, like any backend.
  await call('PUT', '/v1/consumer-groups/incidents-api', {
    topic: 'incident.*.ticket.created',
    startAt: 'beginning',
  });
  progress(
    'routing: high → push channel "oncall" + webhook endpoint, low → queue "triage" (group triage-desk)',
  );
  return { webhookSecret: endpoint.secret, endpointId: endpoint.id, canaryOverride: override.id };
}
