/**
 * Group commit: requests submitted in the same tick (or while the previous commit ran,
 * which blocks the thread) are handed to one synchronous `commit` call, i.e. one
 * transaction and one fsync. Each request still gets its own outcome.
 */

export type Outcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

export type GroupCommitter<I, O> = {
  submit(request: I): Promise<O>;
  /** Commits whatever is queued now, without waiting for the scheduled flush. */
  flush(): void;
};

type Waiting<I, O> = { request: I; resolve: (value: O) => void; reject: (error: unknown) => void };

export function createGroupCommitter<I, O>(
  commit: (requests: I[]) => Outcome<O>[],
): GroupCommitter<I, O> {
  let queue: Waiting<I, O>[] = [];
  let scheduled: NodeJS.Immediate | undefined;

  const flush = (): void => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    if (queue.length === 0) return;
    const taken = queue;
    queue = [];
    let outcomes: Outcome<O>[];
    try {
      outcomes = commit(taken.map((w) => w.request));
    } catch (error) {
      outcomes = taken.map(() => ({ ok: false, error }));
    }
    taken.forEach((waiting, i) => {
      const outcome = outcomes[i] ?? {
        ok: false,
        error: new Error('group commit returned no outcome'),
      };
      if (outcome.ok) waiting.resolve(outcome.value);
      else waiting.reject(outcome.error);
    });
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
