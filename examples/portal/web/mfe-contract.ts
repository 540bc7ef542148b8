/**
 * How the shell page and its module-mounted micro-frontends meet: a module exports
 * `mount(element, context)` and returns an unmount. The shell instance is shared (one
 * dictionary, one push connection, one bus); the token getter lets a micro-frontend call its
 * APIs through the gateway without holding a credential of its own.
 */
import type { Shell } from '@portico/shell';

export type MountContext = {
  shell: Shell;
  getToken: () => Promise<string>;
};

export type MountMicroFrontend = (element: HTMLElement, context: MountContext) => () => void;
