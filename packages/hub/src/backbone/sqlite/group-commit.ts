/**
 * Group commit: requests submitted in the same tick are handed to one `commit` call, i.e.
 * one transaction and one fsync. Each request still gets its own outcome. `commit` may
 * answer later (the writer thread): requests submitted meanwhile form the next group.
 */

export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

export type GroupCommitter<I, O> = {
  submit(request: I): Promise<O>;
  /**
   * Hands whatever is queued to `commit` now, without waiting for the scheduled flush;
   * resolves once those requests have their outcomes.
   */
  flush(): Promise<void>;
};

type Waiting<I, O> = { request: I; resolve: (value: O) => void; reject: (error: unknown) => void };

export function createGroupCommitter<I, O>(
  commit: (requests: I[]) => Outcome<O>[] | Promise<Outcome<O>[]>,
): GroupCommitter<I, O> {
  let queue: Waiting<I, O>[] = [];
  let scheduled: NodeJS.Immediate | undefined;

  const deliver = (taken: Waiting<I, O>[], outcomes: Outcome<O>[]): void => {
    taken.forEach((waiting, i) => {
      const outcome = outcomes[i] ?? {
        ok: false,
        error: new Error('group commit returned no outcome'),
      };
      if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
  };
  const failAll = (taken: Waiting<I, O>[], error: unknown): void =>
    deliver(
      taken,
      taken.map(() => ({ ok: false, error })),
    );

  const flush = (): Promise<void> => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (queue.length === 0) return Promise.resolve();
    const taken = queue;
    queue = [];
    let outcomes: Outcome<O>[] | Promise<Outcome<O>[]>;
    try {
      outcomes = commit(taken.map((w) => w.request));
    } catch (error) {
      failAll(taken, error);
      return Promise.resolve();
    }
    if (Array.isArray(outcomes)) {
      deliver(taken, outcomes);
      return Promise.resolve();
    }
    return outcomes.then(
      (value) => deliver(taken, value),
      (error: unknown) => failAll(taken, error),
    );
  };

  return {
    submit(request) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        scheduled ??= setImmediate(flush);
      });
    },
    flush,
  };
}
