import type {
  AppendResult,
  CloudEventRecord,
  EventLog,
  AppendInput,
} from '../backbone/event-log.ts';
import type { Principal } from '../auth/principal.ts';
import { EventTooLargeError, utf8BytesOver } from '../backbone/event-too-large-error.ts';
import { hasScope } from '../auth/principal.ts';
import { problems, ProblemError, ProblemType } from '../http/problem.ts';
import type { CloudEventsMode, RawEvent } from './http-binding.ts';
import { topicForType } from './topic.ts';
import { validateEvent } from './validate-event.ts';
import type { IngestMetrics } from './ingest-metrics.ts';
import type { PublishCheck } from './publish-check.ts';

export type IngestLimits = { maxEventBytes: number; maxBatchSize: number };

/** Event types remembered with their topics (see #topicOf); cleared when there are more. */
const MAX_REMEMBERED_TYPES = 4096;

export type IngestRequest = {
  principal: Principal;
  mode: CloudEventsMode;
  events: RawEvent[];
  /** The request's traceparent (already validated or freshly made). */
  traceparent: string;
};

/**
 * Validates, stamps and appends events. A request is all-or-nothing: the first invalid
 * event rejects it with its index and failing fields, and nothing is written.
 */
export class EventIngestor {
  readonly #log: EventLog;
  readonly #env: string;
  readonly #limits: IngestLimits;
  readonly #metrics: IngestMetrics;
  readonly #now: () => Date;
  readonly #checks: readonly PublishCheck[];
  /** The ingested counter bound per mode: a labelled inc() hashes its labels every call. */
  readonly #ingested = new Map<CloudEventsMode, { inc(value: number): void }>();
  /**
   * Valid event types and their topics: a producer sends few types, and checking a type's
   * segments and building its topic were ~0.5 µs per event. Filled only after a type passed
   * validateEvent; types come from requests, hence the bound.
   */
  readonly #topics = new Map<string, string>();

  constructor(options: {
    log: EventLog;
    env: string;
    limits: IngestLimits;
    metrics: IngestMetrics;
    now?: () => Date;
    checks?: readonly PublishCheck[];
  }) {
    this.#log = options.log;
    this.#env = options.env;
    this.#limits = options.limits;
    this.#metrics = options.metrics;
    this.#now = options.now ?? (() => new Date());
    this.#checks = options.checks ?? [];
  }

  async ingest(request: IngestRequest): Promise<AppendResult[]> {
    const { events, mode, principal } = request;
    try {
      if (events.length > this.#limits.maxBatchSize)
        throw problems.tooLarge(
          `a batch may hold at most ${this.#limits.maxBatchSize} events, got ${events.length}`,
        );
      const recordedtime = this.#now().toISOString();
      const inputs = events.map((raw, index) =>
        this.#prepare(raw, index, mode, principal, request.traceparent, recordedtime),
      );
      if (this.#checks.length > 0) await this.#runChecks(inputs, mode);
      this.#serialise(inputs, mode);
      const started = performance.now();
      const results = await this.#log.append(inputs);
      this.#metrics.appendLatency.observe((performance.now() - started) / 1000);
      let duplicates = 0;
      for (const r of results) if (r.duplicate) duplicates++;
      this.#ingestedBy(mode).inc(results.length - duplicates);
      if (duplicates > 0) this.#metrics.duplicated.inc(duplicates);
      return results;
    } catch (thrown) {
      // The log's own limit can be below ingest's (a NATS server reconnected to that takes
      // smaller messages): still the producer's 413, not a 500.
      const error =
        thrown instanceof EventTooLargeError
          ? tooLargeProblem(mode, thrown.index, thrown.bytes, thrown.limit)
          : thrown;
      this.#metrics.rejected.inc({ reason: reasonOf(error) }, events.length);
      throw error;
    }
  }

  #ingestedBy(mode: CloudEventsMode): { inc(value: number): void } {
    let counter = this.#ingested.get(mode);
    if (counter === undefined) {
      counter = this.#metrics.ingested.labels({ mode });
      this.#ingested.set(mode, counter);
    }
    return counter;
  }

  /** Every check sees every event; the first rejection fails the whole request (422). */
  async #runChecks(inputs: AppendInput[], mode: CloudEventsMode): Promise<void> {
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index]!;
      let warnings: string[] | undefined;
      for (const check of this.#checks) {
        const answer = check.check(input.event, input.topic);
        // Awaited only when it is a promise: checks mostly answer at once (cached schema,
        // policy), and an await per event and check was a microtask each (200 per batch).
        const verdict = 'then' in answer ? await answer : answer;
        if (verdict.outcome === 'reject') {
          const batch = mode === 'batch';
          throw new ProblemError({
            status: 422,
            type: ProblemType.eventRejected,
            title: 'Event rejected at publish',
            detail: `${batch ? `event ${index}: ` : ''}${verdict.detail}`,
            errors: batch
              ? verdict.errors.map((e) => ({ ...e, pointer: `/${index}${e.pointer}` }))
              : verdict.errors,
            extensions: { check: check.name, ...(batch ? { index } : {}) },
          });
        }
        if (verdict.warnings !== undefined)
          for (const warning of verdict.warnings) {
            (warnings ??= []).push(`${check.name}: ${warning}`);
            this.#metrics.checkWarnings.inc({ check: check.name });
          }
      }
      // Accepted with warnings: the event itself says so, for consumers and for audits.
      if (warnings !== undefined) input.event.validationwarnings = warnings.join('; ');
    }
  }

  #prepare(
    raw: RawEvent,
    index: number,
    mode: CloudEventsMode,
    principal: Principal,
    traceparent: string,
    recordedtime: string,
  ): AppendInput {
    const errors = validateEvent(raw, this.#topics);
    if (errors.length > 0) {
      const first = errors[0]!;
      throw problems.invalidEvent(
        `${mode === 'batch' ? `event ${index}: ` : ''}${first.pointer.slice(1)} ${first.detail}`,
        mode === 'batch' ? errors.map((e) => ({ ...e, pointer: `/${index}${e.pointer}` })) : errors,
        mode === 'batch' ? { index } : undefined,
      );
    }
    // The `portico.` domain is the hub's own (queue and push copies, operational events).
    if ((raw.type as string).startsWith('portico.') && !hasScope(principal, 'admin'))
      throw problems.forbidden(
        `${mode === 'batch' ? `event ${index}: ` : ''}event types in the reserved "portico." domain are published by the hub itself`,
      );
    if (
      raw.tenantid !== undefined &&
      raw.tenantid !== principal.tenant &&
      !hasScope(principal, 'admin')
    )
      throw problems.forbidden(
        `${mode === 'batch' ? `event ${index}: ` : ''}tenantid "${String(raw.tenantid)}" is not the caller's tenant; producers may only publish into their own tenant`,
      );

    const tenant = (raw.tenantid as string | undefined) ?? principal.tenant;
    const id = raw.id as string;
    // Stamped in place, not copied: the raw event is this request's own parse, and
    // assigning keeps the key order a spread into a new object would give (existing
    // attributes where they were, new ones appended in this order).
    const event = raw as CloudEventRecord;
    event.specversion = '1.0';
    event.time = (raw.time as string | undefined) ?? recordedtime;
    event.tenantid = tenant;
    event.correlationid = (raw.correlationid as string | undefined) ?? id;
    event.traceparent = (raw.traceparent as string | undefined) ?? traceparent;
    event.recordedtime = recordedtime;
    return {
      tenant,
      topic: this.#topicOf(event.type),
      partitionKey: (raw.partitionkey as string | undefined) ?? tenant,
      dedupeKey: `${tenant}\u0000${event.source}\u0000${id}`,
      event,
    };
  }

  /** The topic of a type that passed validateEvent (remembered, see #topics). */
  #topicOf(type: string): string {
    let topic = this.#topics.get(type);
    if (topic === undefined) {
      if (this.#topics.size >= MAX_REMEMBERED_TYPES) this.#topics.clear();
      topic = topicForType(type, this.#env);
      this.#topics.set(type, topic);
    }
    return topic;
  }

  /**
   * Serialises each event once, after the checks have stamped it: the text measures the
   * event against the size limit and is what the log stores.
   */
  #serialise(inputs: AppendInput[], mode: CloudEventsMode): void {
    const limit = this.#limits.maxEventBytes;
    for (let index = 0; index < inputs.length; index++) {
      const input = inputs[index]!;
      const body = JSON.stringify(input.event);
      const size = utf8BytesOver(body, limit);
      if (size !== undefined) throw tooLargeProblem(mode, index, size, limit);
      input.body = body;
    }
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof ProblemError) return error.type.slice(error.type.lastIndexOf(':') + 1);
  return 'internal';
}

/** The 413 for an event over `limit` bytes, naming it in a batch. */
function tooLargeProblem(
  mode: CloudEventsMode,
  index: number,
  size: number,
  limit: number,
): ProblemError {
  return new ProblemError({
    status: 413,
    type: ProblemType.tooLarge,
    title: 'Payload too large',
    detail: `${mode === 'batch' ? `event ${index} ` : 'the event '}is ${size} bytes; the limit is ${limit}`,
    errors: [
      {
        pointer: mode === 'batch' ? `/${index}` : '',
        detail: `event is ${size} bytes, over the ${limit}-byte limit`,
      },
    ],
    ...(mode === 'batch' ? { extensions: { index } } : {}),
  });
}
