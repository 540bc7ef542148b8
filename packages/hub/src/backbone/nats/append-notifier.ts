/**
 * `onAppend` across nodes. Events appended through this process are announced at once;
 * events appended through any other node arrive through one ordered consumer per process
 * over the whole stream (started with the first listener, at the position this process
 * had seen, and re-created by nats.js after reconnects or gaps). A bounded set of
 * announced positions makes each event announced once, whichever path is first. Across
 * the two paths, listeners may see positions out of order.
 */
import {
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import type { LogEntry } from '../event-log.ts';
import { BoundedSet } from './bounded-set.ts';
import { entryFrom } from './entries.ts';
import type { SubjectLayout } from './subjects.ts';

export type AppendNotifier = {
  subscribe(listener: (entries: LogEntry[]) => void): () => void;
  /** Entries this process appended. */
  announceLocal(entries: LogEntry[]): void;
  close(): Promise<void>;
};

const ANNOUNCED_MEMORY = 100_000;

export function createAppendNotifier(options: {
  js: JetStreamClient;
  stream: string;
  layout: SubjectLayout;
  /** Last position known when the log opened. */
  lastSeen: number;
  onError: (error: unknown) => void;
}): AppendNotifier {
  const { js, stream, layout, onError } = options;
  const listeners = new Set<(entries: LogEntry[]) => void>();
  const announced = new BoundedSet<number>(ANNOUNCED_MEMORY);
  let lastSeen = options.lastSeen;
  let messages: ConsumerMessages | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;

  const emit = (entries: LogEntry[]) => {
    const fresh = entries.filter((e) => announced.add(e.position));
    if (fresh.length === 0) return;
    for (const listener of [...listeners]) {
      try {
        listener(fresh);
      } catch (error) {
        onError(error);
      }
    }
  };

  const onMessage = (msg: JsMsg) => {
    lastSeen = Math.max(lastSeen, msg.seq);
    // This process's own appends come back here too, already announced: not parsed again.
    if (listeners.size === 0 || announced.has(msg.seq)) return;
    try {
      const entry = entryFrom(
        layout,
        msg.subject,
        msg.data,
        msg.seq,
        Math.round(msg.info.timestampNanos / 1_000_000),
      );
      if (entry) emit([entry]);
    } catch (error) {
      onError(error);
    }
  };

  const start = async () => {
    const consumer = await js.consumers.get(stream, {
      filter_subjects: `${layout.prefix}.>`,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: lastSeen + 1,
    });
    if (closed) return;
    messages = await consumer.consume({ callback: onMessage, max_messages: 1000, expires: 5_000 });
    if (closed) messages.stop();
  };

  const ensureStarted = () => {
    if (starting || closed) return;
    starting = start().catch((error) => {
      onError(error);
      starting = undefined;
      // Try again shortly (NATS may be restarting).
      if (!closed && listeners.size > 0) setTimeout(ensureStarted, 1_000).unref();
    });
  };

  return {
    subscribe(listener) {
      listeners.add(listener);
      ensureStarted();
      return () => {
        listeners.delete(listener);
      };
    },
    announceLocal(entries) {
      for (const e of entries) lastSeen = Math.max(lastSeen, e.position);
      if (listeners.size > 0) emit(entries);
    },
    async close() {
      closed = true;
      listeners.clear();
      await starting?.catch(() => undefined);
      messages?.stop();
    },
  };
}
