/**
 * Leases on the embedded store: one node, so it always leads. (Several nodes on SQLite
 * are not a supported deployment: each would have its own log and store.)
 */
import type { LeaseBackend } from './leadership.ts';

export function createLocalLeases(): LeaseBackend {
  const held = new Set<string>();
  return {
    kind: 'local',
    tryAcquire: (name) => {
      held.add(name);
      return Promise.resolve(true);
    },
    release: (name) => {
      held.delete(name);
      return Promise.resolve();
    },
    verify: () => Promise.resolve(held),
    close: () => Promise.resolve(),
  };
}
