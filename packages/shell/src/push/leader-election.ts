/**
 * One leader among the tabs of an origin: the tab that holds the Web Lock `name`. The lock is
 * held for the tab's lifetime (or until `release`), and the browser hands it to the next
 * waiting tab when the holder closes or crashes, so there is no heartbeat to tune.
 * Without Web Locks (or with `crossTab: false`) every tab leads itself.
 */
export type Election = { release(): void };

export function electLeader(name: string | undefined, onLeader: () => void): Election {
  const locks = globalThis.navigator?.locks;
  if (name === undefined || !locks) {
    queueMicrotask(onLeader);
    return { release() {} };
  }
  const abort = new AbortController();
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  locks
    .request(name, { signal: abort.signal }, () => {
      onLeader();
      return held;
    })
    .catch(() => {}); // aborted while waiting: this tab closed before it led
  return {
    release() {
      abort.abort();
      release();
    },
  };
}
