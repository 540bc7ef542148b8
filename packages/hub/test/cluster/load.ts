/**
 * A producer load for the fault tests: `keys` producers, one partition key each, each
 * sending one event at a time to its node and recording what was acknowledged (202),
 * in order, and every other answer it got.
 */
import { publish } from './http.ts';

export type LoadOptions = {
  /** Producer k sends to `targets[k % targets.length]()` (a function: nodes may change). */
  targets: Array<() => string>;
  headers: Record<string, string>;
  keys: number;
  /** Prefix of the partition keys and event ids (several loads in one log must differ). */
  prefix?: string;
  /**
   * `retry`: an unacknowledged event is sent again (a real producer's at-least-once);
   * `stop`: the producer stops at its first failure.
   */
  onFailure: 'retry' | 'stop';
};

export type Load = {
  prefix: string;
  /** Partition key → ids acknowledged, in acknowledgement order. */
  acknowledged: Map<string, string[]>;
  /** Ids sent and not (yet) acknowledged. */
  inFlight: Set<string>;
  /** Status of every non-202 answer (0 = the connection failed). */
  failures: number[];
  /** Problem `type`s of the non-202 answers that had one. */
  problemTypes: Set<string>;
  total(): number;
  /** Stops the producers and waits for them. */
  stop(): Promise<void>;
};

export function startLoad(options: LoadOptions): Load {
  const acknowledged = new Map<string, string[]>();
  const inFlight = new Set<string>();
  const failures: number[] = [];
  const problemTypes = new Set<string>();
  let stopping = false;
  const producers = Array.from({ length: options.keys }, async (_, k) => {
    const key = `${options.prefix ?? 'key'}-${k}`;
    acknowledged.set(key, []);
    for (let n = 0; !stopping;) {
      const id = `${key}-${n}`;
      inFlight.add(id);
      const answer = await publish(
        options.targets[k % options.targets.length]!(),
        options.headers,
        id,
        'load.event.sent',
        { n },
        { partitionkey: key },
      ).catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
      if (answer.status === 202) {
        inFlight.delete(id);
        acknowledged.get(key)!.push(id);
        n++;
        continue;
      }
      failures.push(answer.status);
      if (typeof answer.body.type === 'string') problemTypes.add(answer.body.type);
      if (options.onFailure === 'stop') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  return {
    prefix: options.prefix ?? 'key',
    acknowledged,
    inFlight,
    failures,
    problemTypes,
    total: () => [...acknowledged.values()].reduce((sum, ids) => sum + ids.length, 0),
    async stop() {
      stopping = true;
      await Promise.all(producers);
    },
  };
}

/** Waits until `load` has `count` more acknowledgements than now (or throws after `ms`). */
export async function waitForAcks(load: Load, count: number, ms = 30_000): Promise<void> {
  const target = load.total() + count;
  const deadline = Date.now() + ms;
  while (load.total() < target) {
    if (Date.now() > deadline)
      throw new Error(`only ${load.total()} of ${target} acknowledgements after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
