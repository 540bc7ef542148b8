/**
 * The main thread's handle on the batch writer thread (batch-writer-thread.ts): sends
 * `runBatch` units, matches replies by id and rebuilds errors (busy/locked become
 * StoreUnavailableError, as on the main connection). The thread is started on first use
 * and keeps the process alive only while a request is outstanding.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { BatchStatement, BatchStatementResult } from '../sql-database.ts';
import { StoreUnavailableError } from '../store-unavailable-error.ts';
import type {
  BatchReply,
  BatchRequest,
  BatchThreadData,
  EncodedError,
} from './batch-writer-thread.ts';

const THREAD_URL = new URL('./batch-writer-thread.ts', import.meta.url);

type Waiting = { resolve: (value: BatchStatementResult[][]) => void; reject: (e: unknown) => void };

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;

export class BatchWriter {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 0;
  #broken: Error | undefined;

  constructor(options: Omit<BatchThreadData, 'port'>) {
    const { port1, port2 } = new MessageChannel();
    const data: BatchThreadData = { ...options, port: port2 };
    this.#worker = new Worker(THREAD_URL, { workerData: data, transferList: [port2] });
    this.#port = port1;
    this.#idle();
    port1.on('message', (reply: BatchReply) => {
      const w = this.#waiting.get(reply.id);
      if (w === undefined) return;
      this.#waiting.delete(reply.id);
      if (this.#waiting.size === 0) this.#idle();
      if (reply.ok) w.resolve(reply.results);
      else w.reject(decode(reply.error));
    });
    this.#worker.on('error', (error) =>
      this.#fail(new StoreUnavailableError(`the SQLite batch writer failed: ${error.message}`)),
    );
    this.#worker.on('exit', (code) =>
      this.#fail(new StoreUnavailableError(`the SQLite batch writer exited (${code})`)),
    );
  }

  /** False once the thread has failed or exited. */
  get alive(): boolean {
    return this.#broken === undefined;
  }

  run(units: readonly (readonly BatchStatement[])[]): Promise<BatchStatementResult[][]> {
    return this.#send({ id: this.#nextId++, units });
  }

  /** Closes the thread's connection after everything already sent, then ends the thread. */
  async close(): Promise<void> {
    if (this.#broken === undefined) await this.#send({ id: this.#nextId++, close: true });
    this.#broken ??= new StoreUnavailableError('the SQLite store is closed');
    await this.#worker.terminate();
    this.#port.close();
  }

  #send(request: BatchRequest): Promise<BatchStatementResult[][]> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      if (this.#waiting.size === 0) {
        this.#worker.ref();
        this.#port.ref();
      }
      this.#waiting.set(request.id, { resolve, reject });
      this.#port.postMessage(request);
    });
  }

  #idle(): void {
    this.#worker.unref();
    this.#port.unref();
  }

  #fail(error: Error): void {
    this.#broken ??= error;
    for (const w of this.#waiting.values()) w.reject(this.#broken);
    this.#waiting.clear();
    this.#idle();
  }
}

function decode(e: EncodedError): Error {
  const code = e.errcode;
  if (code !== undefined && ((code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED))
    return new StoreUnavailableError('the SQLite store is locked by another process');
  const error = new Error(e.message) as Error & { errcode?: number; code?: string };
  error.name = e.name;
  if (code !== undefined) error.errcode = code;
  if (e.code !== undefined) error.code = e.code;
  return error;
}
