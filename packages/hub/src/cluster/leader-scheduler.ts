/**
 * Turns a `LeaseBackend` into `Leadership`: one timer per node campaigns for the leases of
 * the registered chores, confirms the ones it holds, and runs each chore at its interval
 * while its lease is held. A chore never overlaps itself; losing a lease aborts the run.
 */
import type { ChoreOptions, LeaderChore, Leadership, LeaseBackend } from './leadership.ts';

export type LeaderSchedulerOptions = {
  /** How often leases are confirmed and free ones tried (ms). Default 2000. */
  checkIntervalMs?: number;
  /** Told when the engine cannot be reached to campaign (retried at the next check). */
  onError?: (error: unknown) => void;
  clock?: () => number;
};

type Registered = {
  chore: LeaderChore;
  options: ChoreOptions;
  /** When the chore last started (or was registered). */
  lastRun: number;
  running: Promise<void> | undefined;
  abort: AbortController | undefined;
};

export function createLeadership(
  backend: LeaseBackend,
  options: LeaderSchedulerOptions = {},
): Leadership {
  const checkIntervalMs = options.checkIntervalMs ?? 2000;
  const clock = options.clock ?? Date.now;
  const onError = options.onError ?? (() => undefined);
  const chores = new Map<string, Registered>();
  const held = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const abortRun = (chore: Registered) => {
    chore.abort?.abort(new Error('leadership lost'));
    chore.abort = undefined;
  };

  const runDue = () => {
    const now = clock();
    for (const [name, chore] of chores) {
      if (!held.has(name) || chore.running || now - chore.lastRun < chore.options.intervalMs)
        continue;
      chore.lastRun = now;
      const abort = new AbortController();
      chore.abort = abort;
      chore.running = (async () => {
        try {
          await chore.chore(abort.signal);
        } catch (error) {
          if (!abort.signal.aborted) (chore.options.onError ?? onError)(error);
        } finally {
          chore.running = undefined;
          if (chore.abort === abort) chore.abort = undefined;
        }
      })();
    }
  };

  /** Confirms held leases (aborting chores whose lease is gone) and tries the free ones. */
  const campaign = async () => {
    const still = await backend.verify();
    for (const name of [...held])
      if (!still.has(name)) {
        held.delete(name);
        const chore = chores.get(name);
        if (chore) abortRun(chore);
      }
    for (const name of chores.keys())
      if (!held.has(name) && !stopping && (await backend.tryAcquire(name))) held.add(name);
  };

  // The timer ticks often enough for chore intervals; the engine is asked only every
  // checkIntervalMs.
  let lastCampaign = -Infinity;
  const tick = () => {
    checking ??= (async () => {
      if (clock() - lastCampaign >= checkIntervalMs) {
        lastCampaign = clock();
        await campaign().catch(onError);
      }
      if (!stopping) runDue();
    })().finally(() => {
      checking = undefined;
    });
  };

  return {
    kind: backend.kind,

    runAsLeader(name, chore, choreOptions) {
      if (chores.has(name)) throw new Error(`a leader chore named "${name}" already runs here`);
      if (!(choreOptions.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
      chores.set(name, {
        chore,
        options: choreOptions,
        lastRun: clock(),
        running: undefined,
        abort: undefined,
      });
      if (!timer && !stopping) {
        timer = setInterval(tick, Math.min(checkIntervalMs, 1000));
        timer.unref();
      }
      // Campaign at once: a new chore should not wait a period to learn who leads it.
      lastCampaign = -Infinity;
      tick();
      return () => {
        const registered = chores.get(name);
        if (!registered) return;
        chores.delete(name);
        abortRun(registered);
        if (held.delete(name)) backend.release(name).catch(onError);
      };
    },

    isLeader: (name) => held.has(name),

    status: () => [...chores.keys()].map((name) => ({ name, leader: held.has(name) })),

    stop() {
      stopping ??= (async () => {
        clearInterval(timer);
        await checking;
        const running = [...chores.values()].map((chore) => {
          abortRun(chore);
          return chore.running;
        });
        await Promise.allSettled(running);
        chores.clear();
        held.clear();
        await backend.close();
      })();
      return stopping;
    },
  };
}
