/**
 * The main thread's handle on the writer thread (log-writer-thread.ts): sends requests,
 * matches replies by id, and rebuilds errors. The thread keeps the process alive only
 * while a request is outstanding, as a plain database handle would not either.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { WriterThreadData } from './log-writer-thread.ts';
import {
  decodeError,
  type WriterEnvelope,
  type WriterReply,
  type WriterRequest,
  type WriterValue,
} from './writer-protocol.ts';

export type LogWriter = {
  send<K extends WriterRequest['op']>(
    request: Extract<WriterRequest, { op: K }>,
  ): Promise<WriterValue[K]>;
  /** False once the thread has failed or exited: every request is refused then. */
  alive(): boolean;
  /** Sends `close` after everything already sent, then ends the thread. */
  close(): Promise<void>;
};

type Waiting = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

const THREAD_URL = new URL('./log-writer-thread.ts', import.meta.url);

export function startLogWriter(options: Omit<WriterThreadData, 'port'>): LogWriter {
  const { port1: port, port2: threadPort } = new MessageChannel();
  const data: WriterThreadData = { ...options, port: threadPort };
  const worker = new Worker(THREAD_URL, { workerData: data, transferList: [threadPort] });
  worker.unref();
  port.unref();
  const waiting = new Map<number, Waiting>();
  let nextId = 0;
  let broken: Error | undefined;

  const settleAll = (error: Error): void => {
    broken ??= error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
    worker.unref();
    port.unref();
  };

  // The thread answers everything it ran in one go as one message (an array of replies).
  port.on('message', (replies: WriterReply[]) => {
    for (const message of replies) {
      const w = waiting.get(message.id);
      if (w === undefined) continue;
      waiting.delete(message.id);
      if (message.ok) w.resolve(message.value);
      else w.reject(decodeError(message.error));
    }
    if (waiting.size === 0) {
      worker.unref();
      port.unref();
    }
  });

  // Requests made in the same tick go as one message: every postMessage that finds the
  // thread idle wakes it, and a wake-up costs tens of µs of CPU on a virtual machine.
  let outbox: WriterEnvelope[] = [];
  const post = (): void => {
    const envelopes = outbox;
    outbox = [];
    port.postMessage(envelopes);
  };
  worker.on('error', (error) =>
    settleAll(new Error(`event log writer thread failed: ${error.message}`, { cause: error })),
  );
  worker.on('exit', (code) => settleAll(new Error(`event log writer thread exited (${code})`)));

  const send = <K extends WriterRequest['op']>(
    request: Extract<WriterRequest, { op: K }>,
  ): Promise<WriterValue[K]> => {
    if (broken !== undefined) return Promise.reject(broken);
    const id = nextId++;
    return new Promise<WriterValue[K]>((resolve, reject) => {
      if (waiting.size === 0) {
        worker.ref();
        port.ref();
      }
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (outbox.length === 0) queueMicrotask(post);
      outbox.push({ id, request });
    });
  };

  return {
    send,
    alive: () => broken === undefined,
    async close() {
      if (broken === undefined) await send({ op: 'close' });
      await worker.terminate();
      port.close();
    },
  };
}
