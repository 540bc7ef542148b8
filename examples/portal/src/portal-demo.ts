import { buildFrontends } from './build/build-frontends.ts';
import { feedIncidents } from './hub/feed-incidents.ts';
import { provisionPortal } from './hub/provision-portal.ts';
import { startDemoHub, type DemoHub } from './hub/start-demo-hub.ts';
import { tokenSource } from './hub/token-source.ts';
import type { Listening } from './servers/listen.ts';
import { serveShellOrigin } from './servers/shell-origin.ts';
import { serveStaticOrigin } from './servers/static-origin.ts';
import { startWebhookReceiver, type WebhookReceiver } from './servers/webhook-receiver.ts';
import { startBillingApi } from './upstreams/billing-api.ts';
import { startIncidentsApi } from './upstreams/incidents-api.ts';

export const DEMO_TENANT = 'acme';

export type PortalDemoOptions = {
  /** First of 9 consecutive loopback ports; 0 = any free ports (tests). */
  portBase: number;
  /** Where the built front-ends go. */
  outDir: string;
  /** The hub's log level (pino). */
  logLevel?: string;
  /** An empty directory for the hub's embedded store (removed on close); default a temp one. */
  dataDir?: string;
  progress?: (line: string) => void;
};

export type PortalDemo = {
  urls: {
    shell: string;
    hub: string;
    incidentsMfe: string;
    billingMfe: string;
    widget: string;
    incidentsApi: string;
    billingApi: string;
    billingCanary: string;
    webhookReceiver: string;
    /** The shell with the billing-canary override set applied (testing in production). */
    shellWithCanary: string;
  };
  hub: DemoHub;
  receiver: WebhookReceiver;
  close(): Promise<void>;
};

/**
 * Starts the whole demo portal on loopback: the front-ends (built with esbuild, each on its
 * own origin), two upstream services, a webhook receiver and the hub, then provisions the
 * tenant through the hub's API. Everything started is stopped by `close()`, also when a
 * later step fails.
 */
export async function startPortalDemo(options: PortalDemoOptions): Promise<PortalDemo> {
  const progress = options.progress ?? (() => {});
  const port = (offset: number) => (options.portBase === 0 ? 0 : options.portBase + offset);
  type Closable = { close(): Promise<void> };
  // Stopped in this order: browser-facing origins, the hub (it drains), what it talks to.
  const running = {
    frontends: [] as Closable[],
    hub: undefined as Closable | undefined,
    backends: [] as Closable[],
  };
  const backend = <T extends Closable>(thing: T): T => (running.backends.push(thing), thing);
  const frontend = <T extends Closable>(thing: T): T => (running.frontends.push(thing), thing);
  const feed = new AbortController();
  const closeAll = async () => {
    feed.abort();
    for (const thing of [...running.frontends, running.hub, ...running.backends])
      await thing?.close().catch(() => {});
  };

  try {
    const dirs = await buildFrontends(options.outDir, progress);
    const incidentsApi = backend(await startIncidentsApi(port(5)));
    const billingApi = backend(await startBillingApi(port(6)));
    const billingCanary = backend(await startBillingApi(port(8), 'canary'));
    const receiver = backend(await startWebhookReceiver(port(7)));
    progress(
      `upstream services: incidents ${incidentsApi.url}, billing ${billingApi.url} (canary ${billingCanary.url})`,
    );
    progress(`webhook receiver: ${receiver.url}`);

    // The shell's origin starts before the hub (the hub needs its URL for CORS).
    const late: { hub?: DemoHub } = {};
    const incidents = frontend(await serveStaticOrigin(dirs.incidents, port(2)));
    const billing = frontend(await serveStaticOrigin(dirs.billing, port(3)));
    const widget = frontend(await serveStaticOrigin(dirs.widget, port(4)));
    const shell: Listening = frontend(
      await serveShellOrigin({
        dir: dirs.shell,
        port: port(1),
        page: () => ({
          hub: late.hub!.url,
          incidentsOrigin: incidents.url,
          billingOrigin: billing.url,
          widgetOrigin: widget.url,
          webhookReceiver: receiver.url,
        }),
        mintPageToken: (ttlSeconds) =>
          late.hub!.issuer.mint({
            tenant: DEMO_TENANT,
            subject: 'portal-user',
            scopes: ['events:publish', 'events:read'],
            ttlSeconds,
          }),
      }),
    );
    progress(
      `micro-frontends: incidents ${incidents.url}, billing ${billing.url}, widget ${widget.url}`,
    );

    const hub = await startDemoHub({
      port: port(0),
      browserOrigins: [shell.url, incidents.url, billing.url],
      logLevel: options.logLevel ?? 'warn',
      dataDir: options.dataDir,
    });
    late.hub = running.hub = hub;
    progress(`hub: ${hub.url} (embedded store in ${hub.dataDir}, development auth)`);

    const admin = await hub.issuer.mint({
      tenant: DEMO_TENANT,
      subject: 'platform-team',
      scopes: ['dictionary:write', 'schemas:write', 'rules:write', 'webhooks:write', 'events:read'],
      ttlSeconds: 300,
    });
    const provisioned = await provisionPortal(
      {
        hub: hub.url,
        token: admin,
        incidentsApi: incidentsApi.url,
        billingApi: billingApi.url,
        billingCanary: billingCanary.url,
        webhookUrl: receiver.hookUrl,
        origins: {
          shell: shell.url,
          incidents: incidents.url,
          billing: billing.url,
          widget: widget.url,
        },
      },
      progress,
    );
    receiver.useSecret(provisioned.webhookSecret);

    void feedIncidents({
      hub: hub.url,
      getToken: tokenSource(hub.issuer, {
        tenant: DEMO_TENANT,
        subject: 'incidents-service',
        scopes: ['events:read'],
        ttlSeconds: 600,
      }),
      record: (incident) => incidentsApi.record(incident),
      signal: feed.signal,
      onError: (error) => progress(`incidents service: ${error.message}`),
    });

    return {
      urls: {
        shell: shell.url,
        hub: hub.url,
        incidentsMfe: incidents.url,
        billingMfe: billing.url,
        widget: widget.url,
        incidentsApi: incidentsApi.url,
        billingApi: billingApi.url,
        billingCanary: billingCanary.url,
        webhookReceiver: receiver.url,
        shellWithCanary: `${shell.url}/?portico-override=${provisioned.canaryOverride}`,
      },
      hub,
      receiver,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
