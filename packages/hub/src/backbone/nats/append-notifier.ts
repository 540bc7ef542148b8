/**
 * `onAppend` across nodes. Events appended through this process are announced at once;
 * events appended through any other node arrive through one ordered consumer per process
 * over the whole stream (started with the first listener, at the position this process
 * had seen, and re-created by nats.js after reconnects or gaps). A bounded set of
 * announced positions makes each event announced once, whichever path is first. Across
 * the two paths, listeners may see positions out of order.
 *
 * The ordered consumer also brings this process's own appends, usually before their
 * publish is over. A message whose id this process is publishing is held unparsed
 * until the publish ends: announced by the appender if it got the PubAck, else (a lost
 * ack, a failed append) parsed and announced from here. Parsing every event twice was
 * ~5 % of the hub's CPU under batch ingest.
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

/** The appender's side: this process's own publishes. */
export type LocalAppends = {
  /** These message ids are being published by this process. */
  publishing(msgIds: readonly string[]): void;
  /** Their publish is over; `stored` are the entries JetStream stored (in position order). */
  published(msgIds: readonly string[], stored: LogEntry[]): void;
};

export type AppendNotifier = LocalAppends & {
  subscribe(listener: (entries: LogEntry[]) => void): () => void;
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
  /** Message ids being published by this process (a count: concurrent appends may share one). */
  const ownPending = new Map<string, number>();
  /** Their messages, come back through the ordered consumer before the publish ended. */
  const held = new Map<string, JsMsg>();
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

  const announceMessage = (msg: JsMsg) => {
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

  const onMessage = (msg: JsMsg) => {
    lastSeen = Math.max(lastSeen, msg.seq);
    if (listeners.size === 0 || announced.has(msg.seq)) return;
    if (ownPending.size > 0) {
      const id = msg.headers?.get('Nats-Msg-Id');
      if (id && ownPending.has(id)) {
        held.set(id, msg);
        return;
      }
    }
    announceMessage(msg);
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
    publishing(msgIds) {
      for (const id of msgIds) ownPending.set(id, (ownPending.get(id) ?? 0) + 1);
    },
    published(msgIds, stored) {
      for (const e of stored) lastSeen = Math.max(lastSeen, e.position);
      if (listeners.size > 0 && stored.length > 0) emit(stored);
      for (const id of msgIds) {
        const left = (ownPending.get(id) ?? 1) - 1;
        if (left > 0) {
          ownPending.set(id, left);
          continue;
        }
        ownPending.delete(id);
        const msg = held.get(id);
        if (msg === undefined) continue;
        held.delete(id);
        if (listeners.size > 0 && !announced.has(msg.seq)) announceMessage(msg);
      }
    },
    async close() {
      closed = true;
      listeners.clear();
      await starting?.catch(() => undefined);
      messages?.stop();
    },
  };
}
