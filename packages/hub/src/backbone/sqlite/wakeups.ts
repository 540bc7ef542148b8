/**
 * Where long-polling pulls wait: each waits until something may have become available to
 * its group or its own timer fires, then leases again. No polling loop: with nothing
 * happening, a pull sleeps until its deadline.
 *
 * A pull's waiter carries its group's tenant and topic pattern, and an append wakes only
 * the waiters whose group could take one of the appended events. Waking every waiting
 * pull made each append cost one lease transaction on the writer thread per waiting pull
 * of every group of every tenant (1000 idle pulls of one tenant took another tenant's
 * single-event publish from ~2.5 ms to ~35 ms).
 *
 * A waiter is armed before the pull sends its lease and kept until it has slept: a
 * wake-up that comes while the lease is on the writer thread (an event committed just
 * after the lease's transaction) is remembered and ends the sleep at once. So no wake-up
 * is lost, whatever order the replies of the lease and the append come back in.
 *
 * Specs are remembered: read from the database at every pull round, a spec added 15-30 µs
 * to a pull (the read connection's page cache is stale after each commit of the writer
 * thread). A spec changes only through the log, which calls `groupChanged` once the change
 * is committed: that forgets it and wakes the pulls armed with the old one, which re-arm.
 */
import { compileTopicPattern, type TopicMatcher } from '../../events/topic.ts';

/** The events a group can take: its tenant (none = every tenant) and topic pattern. */
export type WakeFilter = { tenant?: string; topicPattern?: string };

export type Waiter = {
  /**
   * Resolves at once if woken since armed, else on the next wake-up or after `ms`,
   * whichever comes first; the waiter is disarmed either way.
   */
  sleep(ms: number): Promise<void>;
  /** Stops listening (the pull returned without sleeping). */
  disarm(): void;
  /** Ends the sleep now, or the next one at once (the pull's consumer is gone). */
  wake(): void;
};

export type Wakeups = {
  /**
   * Starts listening for wake-ups of `group`. A group not found listens to every append
   * (and is not remembered): the lease will say whether it exists.
   */
  arm(group: string): Waiter;
  /** After a durable append: wakes the waiters whose group could take one of `entries`. */
  wakeFor(entries: readonly { tenant: string; topic: string }[]): void;
  /** After an event of `group` was given back (nack). */
  wakeGroup(group: string): void;
  /** After `group` was created, changed or deleted: forgets its spec, wakes its waiters. */
  groupChanged(group: string): void;
  /** On close. */
  wakeAll(): void;
};

type Filter = { tenant: string | undefined; matches: TopicMatcher };
type Armed = { group: string; matches: TopicMatcher; wake: () => void };

/** Group names come from requests: bound the remembered specs (cleared when full). */
const REMEMBERED_GROUPS = 4096;
const everyTopic: TopicMatcher = () => true;
const everyEvent: Filter = { tenant: undefined, matches: everyTopic };

/** `specOf` reads a group's spec; undefined when there is no such group. */
export function createWakeups(specOf: (group: string) => WakeFilter | undefined): Wakeups {
  // By tenant; platform groups (no tenant) under `undefined`. An append looks only at its
  // events' tenants and the platform groups.
  const byTenant = new Map<string | undefined, Set<Armed>>();
  const filters = new Map<string, Filter>();

  const filterOf = (group: string): Filter => {
    let filter = filters.get(group);
    if (filter !== undefined) return filter;
    const spec = specOf(group);
    if (spec === undefined) return everyEvent;
    const { tenant, topicPattern } = spec;
    filter = {
      tenant,
      matches: topicPattern === undefined ? everyTopic : compileTopicPattern(topicPattern),
    };
    if (filters.size >= REMEMBERED_GROUPS) filters.clear();
    filters.set(group, filter);
    return filter;
  };

  const everyArmed = (): Armed[] => [...byTenant.values()].flatMap((set) => [...set]);

  const wakeGroup = (group: string): void => {
    for (const armed of everyArmed()) if (armed.group === group) armed.wake();
  };

  return {
    arm(group) {
      const { tenant, matches } = filterOf(group);
      let set = byTenant.get(tenant);
      if (set === undefined) byTenant.set(tenant, (set = new Set()));
      const armedIn = set;
      let woken = false;
      let resolveSleep: (() => void) | undefined;
      let timer: NodeJS.Timeout | undefined;
      const disarm = (): void => {
        armedIn.delete(armed);
        if (armedIn.size === 0 && byTenant.get(tenant) === armedIn) byTenant.delete(tenant);
        clearTimeout(timer);
      };
      const armed: Armed = {
        group,
        matches,
        wake() {
          woken = true;
          disarm();
          resolveSleep?.();
        },
      };
      armedIn.add(armed);
      return {
        sleep(ms) {
          return new Promise<void>((resolve) => {
            if (woken) return resolve();
            resolveSleep = resolve;
            timer = setTimeout(armed.wake, Math.max(1, Math.ceil(ms)));
          });
        },
        disarm,
        wake: armed.wake,
      };
    },

    wakeFor(entries) {
      if (byTenant.size === 0) return; // nobody waits: nothing to look at per append
      const topicsByTenant = new Map<string, Set<string>>();
      for (const { tenant, topic } of entries) {
        let topics = topicsByTenant.get(tenant);
        if (topics === undefined) topicsByTenant.set(tenant, (topics = new Set()));
        topics.add(topic);
      }
      const wakeMatching = (armed: Set<Armed>, topics: Set<string>): void => {
        for (const waiter of [...armed]) {
          for (const topic of topics) {
            if (waiter.matches(topic)) {
              waiter.wake();
              break;
            }
          }
        }
      };
      for (const [tenant, topics] of topicsByTenant) {
        const armed = byTenant.get(tenant);
        if (armed !== undefined) wakeMatching(armed, topics);
      }
      const platform = byTenant.get(undefined);
      if (platform !== undefined) {
        const allTopics = new Set<string>();
        for (const topics of topicsByTenant.values()) for (const t of topics) allTopics.add(t);
        wakeMatching(platform, allTopics);
      }
    },

    wakeGroup,

    groupChanged(group) {
      filters.delete(group);
      wakeGroup(group);
    },

    wakeAll() {
      for (const armed of everyArmed()) armed.wake();
    },
  };
}
