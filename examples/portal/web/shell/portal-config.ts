/** What the demo server writes into the shell page (`#portal-config`). */
export type PortalConfig = {
  hub: string;
  /** Same-origin endpoint minting short-lived development tokens for this page. */
  tokenUrl: string;
  /** Import-map specifiers of the micro-frontends mounted by module. */
  microFrontends: { incidents: string; billing: string };
  /** The sandboxed widget's page; its origin is the only one the bus bridge accepts. */
  widgetUrl: string;
  webhookReceiver: string;
};

export function readPortalConfig(): PortalConfig {
  return JSON.parse(document.getElementById('portal-config')!.textContent!) as PortalConfig;
}
