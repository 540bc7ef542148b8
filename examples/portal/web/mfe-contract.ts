/**
 * What the shell page hands to each micro-frontend it mounts. The shell SDK instance is
 * shared (one dictionary, one push connection, one bus); the token getter lets a
 * micro-frontend call its APIs through the gateway without holding a credential itself.
 */
import type { ClientBus, Shell } from '@portico/shell';

export type MfeContext = {
  shell: Shell;
  /** The bus as this micro-frontend (`busForMfe`): what it publishes is sent as it. */
  bus: ClientBus;
  getToken: () => Promise<string>;
};

/** A micro-frontend module's one export: mount into `element`, return an unmount. */
export type MountMicroFrontend = (element: HTMLElement, context: MfeContext) => () => void;

/** The incident fields every part of the demo shows (the `incident.ticket.created` data). */
export type IncidentData = {
  id: string;
  title: string;
  severity: 'low' | 'high';
  customer: string;
};
