/**
 * Group commit for a batch operation: calls made while `maxInFlight` runs are already
 * under way wait and then go together, as one run over all their items. Under
 * concurrent appends this turns one statement per request into one per round trip, and
 * costs nothing when calls are rare (a lone call runs at once).
 *
 * Every caller of a merged run gets the run's whole result (a map by key, say) and picks
 * out its own part; a failed run fails every call merged into it.
 */
export function mergedCalls<In, Out>(
  run: (items: In[]) => Promise<Out>,
  options: { maxInFlight: number },
): (items: readonly In[]) => Promise<Out> {
  type Waiter = { resolve: (out: Out) => void; reject: (error: unknown) => void };
  let queued: In[] = [];
  let waiters: Waiter[] = [];
  let inFlight = 0;

  const start = () => {
    const items = queued;
    const batch = waiters;
    queued = [];
    waiters = [];
    inFlight++;
    run(items)
      .then(
        (out) => batch.forEach((w) => w.resolve(out)),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        inFlight--;
        if (waiters.length > 0) start();
      });
  };

  return (items) =>
    new Promise<Out>((resolve, reject) => {
      queued.push(...items);
      waiters.push({ resolve, reject });
      if (inFlight < options.maxInFlight) start();
    });
}
