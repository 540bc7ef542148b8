/**
 * Which tabs are still there. Every tab holds a Web Lock named after it for its lifetime; the
 * browser frees it when the tab closes or crashes. A tab that crashes sends no `bye`, so the
 * leader waits for each other tab's lock: being granted it means that tab is gone. A tab
 * announces its wants only once it holds its lock (`held`), so a live tab is never taken for
 * a gone one.
 * Without Web Locks (or without sharing) there are no other tabs to watch.
 */
export type TabPresence = {
  /** Resolves once this tab holds its own lock (others may watch it from then on). */
  readonly held: Promise<void>;
  /** Calls `onGone` once when `tab` is gone (no-op while already watched). */
  watch(tab: string, onGone: () => void): void;
  unwatch(tab: string): void;
  /** Stops watching and releases this tab's lock. */
  close(): void;
};

export function tabPresence(shareKey: string | undefined, self: string): TabPresence {
  const locks = globalThis.navigator?.locks;
  if (shareKey === undefined || !locks)
    return { held: Promise.resolve(), watch() {}, unwatch() {}, close() {} };
  const lockName = (tab: string) => `${shareKey}:tab:${tab}`;
  const closing = new AbortController();
  let release = () => {};
  const lifetime = new Promise<void>((resolve) => (release = resolve));
  const held = new Promise<void>((resolve) => {
    locks
      .request(lockName(self), { signal: closing.signal }, () => {
        resolve();
        return lifetime;
      })
      // Closed before it was granted, or refused: announce anyway rather than never.
      .catch(() => resolve());
  });
  const watched = new Map<string, AbortController>();

  const watch = (tab: string, onGone: () => void): void => {
    if (tab === self || watched.has(tab) || closing.signal.aborted) return;
    const abort = new AbortController();
    watched.set(tab, abort);
    locks
      .request(lockName(tab), { signal: abort.signal }, () => {
        watched.delete(tab);
        onGone();
      })
      .catch(() => {}); // unwatched or closed
  };

  return {
    held,
    watch,
    unwatch(tab) {
      watched.get(tab)?.abort();
      watched.delete(tab);
    },
    close() {
      closing.abort();
      release();
      for (const abort of watched.values()) abort.abort();
      watched.clear();
    },
  };
}
