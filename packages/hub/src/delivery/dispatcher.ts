/**
 * Runs delivery attempts. Each target (owner + kind + destination) has its own state
 * here: how many attempts are in flight and when it next has due work. A target is
 * claimed from only while it has free slots (its kind's `concurrency`, or the lower limit
 * the kind gives that destination through `concurrencyOf`), so a slow or dead
 * target fills its own slots and nothing else: other targets are claimed and attempted
 * independently. Work routed on this node is announced by `notify`; work routed by other
 * nodes (or left by a crash) is found by a periodic look at the pending targets.
 */
import { randomUUID } from 'node:crypto';
import type { CloudEventRecord } from '../backbone/event-log.ts';
import type { AttemptOutcome, AttemptRecord } from './attempt-log.ts';
import type { Delivery, DeliveryResult } from './delivery-target.ts';
import type {
  ClaimedDelivery,
  DeliveryLease,
  DeliveryStore,
  NewDelivery,
} from './delivery-store.ts';
import type { DeliveryMetrics } from './delivery-metrics.ts';
import { applyInputTransform, type InputTransform } from './input-transform.ts';
import { decideRetry, resolvePolicy, type RetryOverride } from './retry-policy.ts';
import { parseTargetKey, targetKey } from './target-key.ts';
import type { RegisteredSender, TargetRegistry } from './target-registry.ts';

export type Logger = {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
};

export type DispatcherOptions = {
  store: DeliveryStore;
  registry: TargetRegistry;
  metrics: DeliveryMetrics;
  logger: Logger;
  /** How often to look for targets with pending work routed elsewhere. Default 2000 ms. */
  discoveryIntervalMs?: number;
  /** A lease outlives the attempt's timeout by this much. Default 5000 ms. */
  leaseMarginMs?: number;
  /** After a store error, a target is left alone this long. Default 1000 ms. */
  errorBackoffMs?: number;
  /**
   * Ready deliveries hold their event in memory (parsed and as JSON): past this much JSON
   * (UTF-16 code units) ready on the node, no target reads ahead. Events may be 256 KiB or
   * more, and many targets reading ahead 16 times their slots would hold gigabytes.
   * Default 32 Mi.
   */
  readAheadChars?: number;
  clock?: () => number;
  random?: () => number;
};

type TargetState = {
  key: string;
  kind: string;
  /** The destination within the kind (queue name, endpoint id …). */
  ref: string;
  inflight: number;
  /**
   * Leased ahead of a free slot (fast targets only, see #capacity): a freed slot starts
   * the next one at once instead of waiting for a claim to commit.
   */
  ready: ClaimedDelivery[];
  /** Leases promised to routed deliveries still being inserted (see leaseRouted). */
  reserved: number;
  /** Recent attempt duration (moving average, ms); Infinity until one is measured. */
  attemptMs: number;
  /** When the target next has work that may be due (Infinity: nothing known). */
  dueAt: number;
  claiming: boolean;
  /**
   * The earliest due time made known while a claim was running (a notify, a settled retry):
   * the claim's own answer is read before such news and must not erase it.
   */
  dueDuringClaim: number;
};

/** Leases given to routed deliveries before their insert; told how the insert went. */
export type RoutedLease = {
  /** Committed: these rows (those of the leased ones that were new) are this node's to start. */
  accept(leased: readonly ClaimedDelivery[]): void;
  /** Not inserted: the leases are void (and taken off the rows). */
  cancel(): void;
};

export class Dispatcher {
  readonly #store: DeliveryStore;
  readonly #registry: TargetRegistry;
  readonly #metrics: DeliveryMetrics;
  readonly #logger: Logger;
  readonly #discoveryIntervalMs: number;
  readonly #leaseMarginMs: number;
  readonly #errorBackoffMs: number;
  readonly #readAheadChars: number;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #targets = new Map<string, TargetState>();
  /** The events' JSON length of every ready delivery (see readAheadChars). */
  #readyChars = 0;
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #timerAt = Infinity;
  #discovery: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #started = false;

  constructor(options: DispatcherOptions) {
    this.#store = options.store;
    this.#registry = options.registry;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#discoveryIntervalMs = options.discoveryIntervalMs ?? 2000;
    this.#leaseMarginMs = options.leaseMarginMs ?? 5000;
    this.#errorBackoffMs = options.errorBackoffMs ?? 1000;
    this.#readAheadChars = options.readAheadChars ?? 32 * 1024 * 1024;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribe = this.#registry.onRegister(() => this.#schedule());
    await this.#discover();
    this.#discovery = setInterval(() => void this.#discover(), this.#discoveryIntervalMs);
    this.#discovery.unref();
  }

  /** Work was just stored for these targets: look at them now. */
  notify(targets: Iterable<{ key: string; kind: string }>): void {
    if (this.#stop.signal.aborted) return;
    const now = this.#clock();
    for (const t of targets) {
      this.#due(this.#state(t.key, t.kind), now);
    }
    this.#schedule();
  }

  /**
   * Leases routed deliveries to this node as they are inserted, where their target can
   * start them soon: such a delivery then needs no claim (its row is written twice, not
   * three times, and never read back), and starts as soon as its insert commits
   * (bench/webhooks: +25 % deliveries/s, a quarter less store-writer CPU per delivery).
   * Sets `lease` on the rows it takes: only within the target's free capacity, less a
   * slot's worth kept for claims while older work is due, and never ordered deliveries
   * (the claim keeps their order). The router reports how the insert went.
   */
  leaseRouted(rows: readonly NewDelivery[]): RoutedLease {
    const now = this.#clock();
    const taken = new Map<
      TargetState,
      { sender: RegisteredSender; lease: DeliveryLease; count: number; room: number }
    >();
    if (!this.#stop.signal.aborted)
      for (const row of rows) {
        if (row.ordered) continue;
        const state = this.#state(targetKey(row.owner, row.kind, row.ref), row.kind);
        let entry = taken.get(state);
        if (!entry) {
          const sender = this.#registry.sender(row.kind);
          if (!sender) continue;
          // Older work is due (or being claimed): leave a claim at least a slot's worth of
          // room, so the backlog keeps its share while routed work streams past it.
          const backlog = state.claiming || state.dueAt <= now;
          const room =
            this.#capacity(sender, state) -
            this.#leased(state) -
            (backlog ? slots(sender, state) : 0);
          entry = {
            sender,
            lease: { token: randomUUID(), until: now + sender.timeoutMs + this.#leaseMarginMs },
            count: 0,
            room,
          };
          taken.set(state, entry);
        }
        if (entry.count >= entry.room) continue;
        entry.count++;
        row.lease = entry.lease;
      }
    for (const [state, { count }] of taken) state.reserved += count;
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      for (const [state, { count }] of taken) state.reserved -= count;
      return true;
    };
    return {
      accept: (leased) => {
        if (!close()) return;
        const byKey = new Map<string, ClaimedDelivery[]>();
        for (const row of leased) {
          const list = byKey.get(row.targetKey);
          if (list) list.push(row);
          else byKey.set(row.targetKey, [row]);
        }
        for (const [state, { sender, count }] of taken) {
          const mine = byKey.get(state.key) ?? [];
          this.#addReady(state, mine);
          // Fewer inserted than leased: those rows existed already (an event routed again);
          // whatever of them is pending is found by a claim.
          if (mine.length < count) this.#due(state, this.#clock());
          this.#startReady(state, sender);
        }
        this.#schedule();
      },
      cancel: () => {
        if (!close()) return;
        for (const row of rows) delete row.lease;
        this.#schedule();
      },
    };
  }

  /** Stops claiming, aborts attempts in flight and gives their deliveries back. */
  async stop(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    clearInterval(this.#discovery);
    // Ready deliveries were never started: give them back (a ready one is never lost either
    // way; its lease would expire).
    for (const state of this.#targets.values()) {
      const sender = this.#registry.sender(state.kind);
      if (sender) this.#startReady(state, sender);
    }
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  #state(key: string, kind: string): TargetState {
    let state = this.#targets.get(key);
    if (!state) {
      const { ref } = parseTargetKey(key);
      state = {
        key,
        kind,
        ref,
        inflight: 0,
        ready: [],
        reserved: 0,
        attemptMs: Infinity,
        dueAt: Infinity,
        claiming: false,
        dueDuringClaim: Infinity,
      };
      this.#targets.set(key, state);
    }
    return state;
  }

  async #discover(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    try {
      const pending = await this.#store.pendingTargets();
      const seen = new Set<string>();
      for (const p of pending) {
        seen.add(p.targetKey);
        const state = this.#state(p.targetKey, p.kind);
        this.#due(state, p.dueAt);
      }
      // Forget idle targets so the map follows the live ones only.
      for (const [key, state] of this.#targets)
        if (
          !seen.has(key) &&
          state.inflight === 0 &&
          state.ready.length === 0 &&
          state.reserved === 0 &&
          !state.claiming &&
          state.dueAt === Infinity
        )
          this.#targets.delete(key);
      this.#schedule();
    } catch (error) {
      if (!this.#stop.signal.aborted)
        this.#logger.error({ err: error }, 'delivery: looking for pending work failed');
    }
  }

  /** Arms one timer for the earliest moment some target can be claimed from. */
  #schedule(): void {
    if (this.#stop.signal.aborted) return;
    let earliest = Infinity;
    for (const state of this.#targets.values()) {
      const sender = this.#registry.sender(state.kind);
      if (!sender || state.claiming || this.#leased(state) >= this.#capacity(sender, state))
        continue;
      if (state.dueAt < earliest) earliest = state.dueAt;
    }
    if (earliest === Infinity) return;
    if (earliest <= this.#clock()) {
      // Due now: tick in this turn's check phase rather than after a timer's 1 ms, so the
      // claims that refill freed slots join the group commit of the settles that freed them.
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        this.#tick();
      });
      return;
    }
    if (earliest >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = earliest;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, earliest - this.#clock()));
  }

  #tick(): void {
    this.#timerAt = Infinity;
    if (this.#stop.signal.aborted) return;
    const now = this.#clock();
    for (const state of this.#targets.values()) {
      const sender = this.#registry.sender(state.kind);
      if (
        !sender ||
        state.claiming ||
        this.#leased(state) >= this.#capacity(sender, state) ||
        state.dueAt > now
      )
        continue;
      this.#track(this.#claim(state, sender, now));
    }
    this.#schedule();
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    void work.finally(() => this.#running.delete(work));
  }

  async #claim(state: TargetState, sender: RegisteredSender, now: number): Promise<void> {
    state.claiming = true;
    state.dueDuringClaim = Infinity;
    const free = this.#capacity(sender, state) - this.#leased(state);
    try {
      const claimed = await this.#store.claim(
        state.key,
        free,
        now,
        sender.timeoutMs + this.#leaseMarginMs,
      );
      this.#addReady(state, claimed);
      this.#startReady(state, sender);
      // A full claim may have left more due work behind: look again when a slot frees.
      state.dueAt =
        claimed.length === free ? now : ((await this.#store.nextDueAt(state.key)) ?? Infinity);
    } catch (error) {
      if (!this.#stop.signal.aborted)
        this.#logger.error({ err: error, target: state.key }, 'delivery: claiming failed');
      state.dueAt = this.#clock() + this.#errorBackoffMs;
    } finally {
      state.claiming = false;
      state.dueAt = Math.min(state.dueAt, state.dueDuringClaim);
      this.#schedule();
    }
  }

  /** The target has work due at `at` (or earlier). */
  #due(state: TargetState, at: number): void {
    state.dueAt = Math.min(state.dueAt, at);
    if (state.claiming) state.dueDuringClaim = Math.min(state.dueDuringClaim, at);
  }

  /** Deliveries this node holds (or is getting) a lease on for the target: in flight, ready, reserved. */
  #leased(state: TargetState): number {
    return state.inflight + state.ready.length + state.reserved;
  }

  /**
   * How many leases a target may hold: its slots, plus up to MAX_READ_AHEAD - 1 times as
   * many ready ones while its attempts are fast. With k times its slots leased, a ready
   * delivery waits about k - 1 attempts for a slot: k is kept where that wait stays under
   * half the lease margin, so it starts with most of its lease left; a slow target (or one
   * not yet measured) gets no read-ahead. The more a claim takes, the fewer claims (each a
   * store round trip and part of a commit) a delivery costs.
   */
  #capacity(sender: RegisteredSender, state: TargetState): number {
    if (this.#readyChars >= this.#readAheadChars) return slots(sender, state);
    const fits = Math.floor(this.#leaseMarginMs / (2 * state.attemptMs));
    return slots(sender, state) * Math.max(1, Math.min(MAX_READ_AHEAD, fits));
  }

  #addReady(state: TargetState, rows: readonly ClaimedDelivery[]): void {
    for (const row of rows) {
      state.ready.push(row);
      this.#readyChars += row.eventJson.length;
    }
  }

  /** Starts ready deliveries while slots are free; one whose lease ran short is given back. */
  #startReady(state: TargetState, sender: RegisteredSender): void {
    const stopping = this.#stop.signal.aborted;
    while (state.ready.length > 0 && (stopping || state.inflight < slots(sender, state))) {
      const row = state.ready.shift()!;
      this.#readyChars -= row.eventJson.length;
      const now = this.#clock();
      if (stopping || row.dueAt - now < sender.timeoutMs) {
        this.#track(
          this.#store.release(row.id, row.leaseToken, now).catch((error: unknown) => {
            this.#logger.warn({ err: error, delivery: row.id }, 'delivery: release failed');
          }),
        );
        this.#due(state, now);
        continue;
      }
      this.#track(this.#attempt(state, sender, row));
    }
  }

  async #attempt(
    state: TargetState,
    sender: RegisteredSender,
    row: ClaimedDelivery,
  ): Promise<void> {
    state.inflight++;
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      state.inflight--;
      this.#startReady(state, sender);
      this.#schedule();
    };
    try {
      const startedAt = this.#clock();
      const started = performance.now();
      const run = await this.#run(sender, row);
      if (run === 'stopped') {
        await this.#store.release(row.id, row.leaseToken, this.#clock()).catch(() => undefined);
        return;
      }
      if ('deferMs' in run) {
        this.#due(state, await this.#defer(sender, row, run.deferMs));
        return;
      }
      const timing = { startedAt, durationMs: performance.now() - started };
      state.attemptMs =
        state.attemptMs === Infinity
          ? timing.durationMs
          : state.attemptMs * 0.8 + timing.durationMs * 0.2;
      this.#metrics.attemptSeconds.observe({ kind: row.kind }, timing.durationMs / 1000);
      // The attempt is over once its record is queued: free its slot now, so the claim that
      // refills it is queued behind the settle and commits with it (one fsync, not two in a
      // row). The settle still runs first, so an ordered key's next event sees it.
      const settling = this.#settle(sender, row, run, timing);
      free();
      this.#due(state, await settling);
    } catch (error) {
      // The store failed while settling: the lease expires and the delivery is tried again.
      if (!this.#stop.signal.aborted)
        this.#logger.error(
          { err: error, delivery: row.id },
          'delivery: recording an attempt failed',
        );
    } finally {
      if (freed) this.#schedule();
      else free();
    }
  }

  /** One attempt, bounded by the kind's timeout and by shutdown, whatever the target does. */
  async #run(sender: RegisteredSender, row: ClaimedDelivery): Promise<Run | 'stopped'> {
    let delivery: Delivery;
    try {
      delivery = toDelivery(row);
    } catch (error) {
      const result: SettledResult = {
        outcome: 'failed',
        error: `input transform failed: ${(error as Error).message}`,
        reason: 'transform-failed',
      };
      return { result, outcome: 'failed' };
    }
    // One controller and one timer per attempt: AbortSignal.timeout + AbortSignal.any cost
    // a weak reference on the long-lived stop signal per attempt, measurable at load.
    const abort = new AbortController();
    const { signal } = abort;
    const timer = setTimeout(
      () =>
        abort.abort(
          new DOMException(`attempt timed out after ${sender.timeoutMs} ms`, 'TimeoutError'),
        ),
      sender.timeoutMs,
    );
    timer.unref();
    const onStop = () => abort.abort(this.#stop.signal.reason);
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const winner = await Promise.race([
        sender.target.deliver(delivery, signal).catch((error: unknown): DeliveryResult => ({
          outcome: 'retry',
          error: errorText(error),
        })),
        aborted,
      ]);
      if (winner !== 'aborted')
        return winner.outcome === 'deferred'
          ? { deferMs: winner.delayMs }
          : { result: winner, outcome: winner.outcome };
      if (this.#stop.signal.aborted) return 'stopped';
      return {
        result: { outcome: 'retry', error: `attempt timed out after ${sender.timeoutMs} ms` },
        outcome: 'timeout',
      };
    } finally {
      clearTimeout(timer);
      this.#stop.signal.removeEventListener('abort', onStop);
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** Gives the delivery back untouched, due in `delayMs` (or to the DLQ past its maximum age). */
  async #defer(sender: RegisteredSender, row: ClaimedDelivery, delayMs: number): Promise<number> {
    const now = this.#clock();
    // A floor, so that a target deferring with no delay cannot spin the dispatcher.
    const dueAt = now + (Number.isFinite(delayMs) ? Math.max(MIN_DEFER_MS, delayMs) : MIN_DEFER_MS);
    const policy = resolvePolicy(sender.retry, row.target['retry'] as RetryOverride | undefined);
    if (dueAt - row.startedAt <= policy.maxAgeMs) {
      await this.#store.release(row.id, row.leaseToken, dueAt);
      return dueAt;
    }
    const error = row.lastError ?? 'deferred by the target past the maximum age';
    if (
      await this.#store.settleDead(row.id, row.leaseToken, now, error, 'max-age', undefined, false)
    ) {
      this.#metrics.attempts.inc({ kind: row.kind, outcome: 'dead' });
      this.#metrics.deadLettered.inc({
        owner: row.owner,
        kind: row.kind,
        target: row.ref,
        reason: 'max-age',
      });
    }
    return freedAt(row, now);
  }

  /** Records the attempt (state and attempt log); returns when the target may next have due work. */
  async #settle(
    sender: RegisteredSender,
    row: ClaimedDelivery,
    run: SettledRun,
    timing: { startedAt: number; durationMs: number },
  ): Promise<number> {
    const now = this.#clock();
    const kind = row.kind;
    const { result } = run;
    const record = (next: { nextAttemptAt?: number; deadReason?: string }): AttemptRecord => ({
      deliveryId: row.id,
      attempt: row.attempts + 1,
      replay: row.replays,
      owner: row.owner,
      targetKey: row.targetKey,
      startedAt: timing.startedAt,
      durationMs: timing.durationMs,
      outcome: run.outcome,
      statusCode: validStatus(result.detail?.statusCode),
      error: result.outcome === 'delivered' ? null : result.error,
      response: typeof result.detail?.response === 'string' ? result.detail.response : null,
      retryAfterMs:
        result.outcome === 'retry' && Number.isFinite(result.retryAfterMs)
          ? (result.retryAfterMs ?? null)
          : null,
      nextAttemptAt: next.nextAttemptAt ?? null,
      deadReason: next.deadReason ?? null,
    });
    if (result.outcome === 'delivered') {
      if (await this.#store.settleDelivered(row.id, row.leaseToken, now, record({}))) {
        this.#metrics.attempts.inc({ kind, outcome: 'delivered' });
        const accepted = Date.parse(row.event.recordedtime);
        if (Number.isFinite(accepted))
          this.#metrics.lag.observe({ kind }, Math.max(0, now - accepted) / 1000);
      }
      return freedAt(row, now);
    }
    let reason: string;
    if (result.outcome === 'retry') {
      const policy = resolvePolicy(sender.retry, row.target['retry'] as RetryOverride | undefined);
      const decision = decideRetry(
        policy,
        {
          attemptsMade: row.attempts + 1,
          ageMs: now - row.startedAt,
          retryAfterMs: result.retryAfterMs,
        },
        this.#random,
      );
      if (decision.retry) {
        const dueAt = now + decision.delayMs;
        const attempt = record({ nextAttemptAt: dueAt });
        if (
          await this.#store.settleRetry(row.id, row.leaseToken, now, dueAt, result.error, attempt)
        ) {
          this.#metrics.attempts.inc({ kind, outcome: 'retry' });
          this.#metrics.retries.inc({ kind });
        }
        return dueAt;
      }
      reason = decision.reason;
    } else {
      reason = result.reason;
    }
    const attempt = record({ deadReason: reason });
    if (await this.#store.settleDead(row.id, row.leaseToken, now, result.error, reason, attempt)) {
      this.#metrics.attempts.inc({ kind, outcome: 'dead' });
      this.#metrics.deadLettered.inc({ owner: row.owner, kind, target: row.ref, reason });
    }
    return freedAt(row, now);
  }
}

/** Attempts a target may have in flight: the kind's cap, or the destination's lower limit. */
function slots(sender: RegisteredSender, state: TargetState): number {
  const own = sender.concurrencyOf?.(state.ref);
  return own === undefined || !(own >= 1) ? sender.concurrency : Math.min(sender.concurrency, own);
}

/**
 * At most this many times its slots leased per target. bench/webhooks, 4 against 2: +10 %
 * deliveries/s; 16 against 4, with routed deliveries leased at insert: +20 to 35 %, as
 * routed work then finds room to be handed over (docs/benchmarks.md).
 */
const MAX_READ_AHEAD = 16;

/**
 * When a finished delivery (delivered or dead) makes other work due: an ordered key's next
 * delivery becomes its head now; an unordered one frees nothing (no claim needed).
 */
function freedAt(row: ClaimedDelivery, now: number): number {
  return row.ordered ? now : Infinity;
}

/** The shortest wait after a target defers a delivery. */
const MIN_DEFER_MS = 10;

type SettledResult = Exclude<DeliveryResult, { outcome: 'deferred' }>;
/** One attempt's answer, and how the attempt log names its outcome (a timeout is a retry too). */
type SettledRun = { result: SettledResult; outcome: AttemptOutcome };
/** An attempt's answer, or the target's request to be asked again later. */
type Run = SettledRun | { deferMs: number };

function validStatus(code: unknown): number | null {
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 999
    ? code
    : null;
}

function toDelivery(row: ClaimedDelivery): Delivery {
  const transform = row.target['inputTransform'] as InputTransform | undefined;
  const event: CloudEventRecord = row.event;
  return {
    id: row.id,
    attempt: row.attempts + 1,
    tenant: row.tenant,
    owner: row.owner,
    rule: { id: row.ruleId, name: row.ruleName },
    target: { kind: row.kind, ref: row.ref, index: row.targetIndex, config: row.target },
    event,
    eventJson: row.eventJson,
    payload: transform ? applyInputTransform(transform, event) : event,
    transformed: transform !== undefined,
    correlationId: event.correlationid ?? event.id,
    partitionKey: row.partitionKey,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
