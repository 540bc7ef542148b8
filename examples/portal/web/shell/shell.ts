/**
 * The shell page: creates the one shell (dictionary, push connection, bus) and composes the
 * micro-frontends, each loaded from its own origin: the incidents Web Component through
 * `<portico-mfe>`, the React billing panel by import map, the untrusted widget in a sandboxed
 * iframe behind the bus bridge. It also relays pushed incidents to the widget as
 * `incident.ticket.announced`, and has the demo's controls (publish an event through the
 * hub, break a bus contract).
 */
import { bridgeIframe, createShell, defineMfeElement, type Shell } from '@portico/shell';
import type { MountContext, MountMicroFrontend } from '../mfe-contract.ts';
import type { IncidentTicketAnnounced, IncidentTicketCreated } from '../portal-events.ts';
import { provideToken } from '../portal-token.ts';
import { pageToken } from './page-token.ts';
import { readPortalConfig, type PortalConfig } from './portal-config.ts';

const MFE_ID = 'portal-shell';
const config = readPortalConfig();
const getToken = pageToken(config.tokenUrl);
const widgetOrigin = new URL(config.widgetUrl).origin;
// `?transport=ws` tries the WebSocket wire; SSE by default.
const transport = new URL(location.href).searchParams.get('transport') === 'ws' ? 'ws' : 'sse';

const shell = await createShell({
  hub: config.hub,
  getToken,
  transport,
  dev: true,
  bridgeOrigins: [widgetOrigin],
});
showConnection(shell);

// Two ways to mount a micro-frontend from its own origin:
// - <portico-mfe> (the SDK's Web Component adapter) for the incidents list: it imports the
//   module and gives the element its context as "incidents";
// - a module resolved by the import map, with `mount(element, context)`, for the React panel.
provideToken(document, getToken);
const incidents = document.getElementById('incidents-mfe')!;
incidents.setAttribute('src', config.microFrontends.incidents);
incidents.addEventListener('portico-mfe-error', (e) =>
  console.error('incidents did not mount', (e as CustomEvent).detail),
);
defineMfeElement({ shell });
await mountModule(config.microFrontends.billing, 'billing', { shell, getToken });
mountWidget(shell, config);
relayToWidget(shell);
wireControls(shell, config);
watchBehindTheScenes(config);

async function mountModule(specifier: string, elementId: string, context: MountContext) {
  // A bare specifier resolved by the import map to the micro-frontend's own origin.
  const { mount } = (await import(specifier)) as { mount: MountMicroFrontend };
  mount(document.getElementById(elementId)!, context);
}

function mountWidget(shell: Shell, config: PortalConfig): void {
  const iframe = document.getElementById('widget') as HTMLIFrameElement;
  iframe.src = `${config.widgetUrl}?parent=${encodeURIComponent(location.origin)}`;
  // Sandboxed without allow-same-origin, the widget's origin is opaque ("null"): the bridge
  // then checks the iframe's window and the origin of the src given here.
  bridgeIframe(shell.bus, iframe, { origin: widgetOrigin, mfeId: 'status-widget' });
}

/** The widget gets a trimmed copy of each pushed incident: no customer names leave the shell. */
function relayToWidget(shell: Shell): void {
  shell.subscribe(MFE_ID, 'incident.*.ticket.created', (message) => {
    const { id, severity, title } = message.event.data as IncidentTicketCreated;
    const announced: IncidentTicketAnnounced = { id, severity, title };
    shell.bus.publish('incident.ticket.announced', announced, { from: MFE_ID });
  });
}

function showConnection(shell: Shell): void {
  const badge = document.getElementById('connection')!;
  const show = (c: Shell['connection']) => {
    badge.textContent = `push (${transport}): ${c.state}${c.leader ? ' · this tab holds the connection' : ' · via the leader tab'}`;
    badge.className = c.state;
  };
  show(shell.connection);
  shell.onConnectionChange(show);
}

function wireControls(shell: Shell, config: PortalConfig): void {
  const form = document.getElementById('publish') as HTMLFormElement;
  const status = document.getElementById('publish-status')!;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const fields = new FormData(form);
    const data: IncidentTicketCreated = {
      id: `INC-${Math.floor(2000 + Math.random() * 98_000)}`,
      title: String(fields.get('title')),
      severity: fields.get('severity') as IncidentTicketCreated['severity'],
      customer: String(fields.get('customer')),
    };
    status.textContent = `publishing ${data.id}…`;
    void publish(config, data).then(
      (position) => (status.textContent = `published ${data.id} (log position ${position})`),
      (error: Error) => (status.textContent = `refused: ${error.message}`),
    );
  });
  document.getElementById('bad-bus-event')!.addEventListener('click', () => {
    // Breaks the contract twice: a malformed id, and "billing" is not a declared publisher.
    shell.bus.publish(
      'incident.ticket.selected',
      { id: 'oops', customer: 42 },
      { from: 'billing' },
    );
  });
  const violations = document.getElementById('violations')!;
  shell.bus.onViolation((v) => {
    const item = document.createElement('li');
    item.textContent = `${v.type} from ${v.from ?? 'unknown'}: ${v.errors.map((e) => `${e.pointer || '/'} ${e.detail}`).join('; ')}`;
    violations.prepend(item);
  });
}

/** Publishes through the hub's event API with the page's short-lived token. */
async function publish(config: PortalConfig, data: IncidentTicketCreated): Promise<number> {
  const response = await fetch(`${config.hub}/v1/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await getToken()}`,
      'content-type': 'application/cloudevents+json',
    },
    body: JSON.stringify({
      specversion: '1.0',
      id: crypto.randomUUID(),
      source: '/portal/shell',
      type: 'incident.ticket.created',
      subject: data.id,
      data,
    }),
  });
  const body = (await response.json()) as { events?: { position: number }[]; detail?: string };
  if (!response.ok) throw new Error(body.detail ?? `hub answered ${response.status}`);
  return body.events![0]!.position;
}

/** Polls the webhook receiver and the triage queue's lag, so the routing is visible. */
function watchBehindTheScenes(config: PortalConfig): void {
  const webhooks = document.getElementById('webhooks')!;
  const triage = document.getElementById('triage')!;
  (document.getElementById('receiver-link') as HTMLAnchorElement).href = config.webhookReceiver;
  const poll = async () => {
    const [received, group] = await Promise.all([
      fetch(`${config.webhookReceiver}/deliveries`).then(
        (r) =>
          r.json() as Promise<{ deliveries: { eventId: string; data: IncidentTicketCreated }[] }>,
      ),
      fetch(`${config.hub}/v1/consumer-groups/triage-desk`, {
        headers: { authorization: `Bearer ${await getToken()}` },
      }).then((r) => r.json() as Promise<{ pending?: number }>),
    ]);
    const last = received.deliveries[0];
    webhooks.textContent = `${received.deliveries.length} signed deliveries verified${last ? `, last ${last.data.id}` : ''}`;
    triage.textContent = `${group.pending ?? '?'} low-severity incident(s) waiting`;
  };
  const loop = () =>
    void poll()
      .catch(() => {})
      .finally(() => setTimeout(loop, 2000));
  loop();
}
