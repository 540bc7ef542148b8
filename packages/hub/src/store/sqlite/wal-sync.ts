/**
 * Makes committed WAL frames durable off the event loop. The connection runs with
 * synchronous=NORMAL (a commit writes its frames without fsync; SQLite still syncs around
 * checkpoints, so the file stays consistent), and a write is reported done only once a
 * `fdatasync` of the WAL file that started after its commit has finished: the same
 * guarantee as synchronous=FULL (a resolved write survives power loss), but the fsync runs
 * on libuv's thread pool instead of blocking every other request for its ~2 ms.
 *
 * Syncs are coalesced: commits that arrive while one is running share the next one.
 * A failed fdatasync is final (after an fsync error the kernel may have dropped the dirty
 * pages, so a later success proves nothing): every later sync rejects.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../store-unavailable-error.ts';

export class WalSync {
  readonly #walPath: string;
  #file: Promise<FileHandle> | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #failed: unknown;
  #closed = false;

  constructor(databasePath: string) {
    this.#walPath = `${databasePath}-wal`;
  }

  /** A sync has failed: no later write can be reported durable. */
  get failed(): boolean {
    return this.#failed !== undefined;
  }

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#start();
    const previous = this.#running;
    this.#queued = previous
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.#start();
      });
    return this.#queued;
  }

  /** Waits for syncs in flight, then closes the WAL file handle. */
  async close(): Promise<void> {
    this.#closed = true;
    await (this.#queued ?? this.#running)?.catch(() => undefined);
    const file = this.#file;
    this.#file = undefined;
    await file?.then((f) => f.close()).catch(() => undefined);
  }

  #start(): Promise<void> {
    const running = this.#datasync().finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  async #datasync(): Promise<void> {
    if (this.#failed !== undefined) throw failure(this.#failed);
    if (this.#closed) throw new StoreUnavailableError('the SQLite store is closed');
    try {
      this.#file ??= openWal(this.#walPath);
      const file = await this.#file.catch((error: unknown) => {
        this.#file = undefined;
        throw error;
      });
      await file.datasync();
    } catch (error) {
      // No WAL file yet: nothing has been committed into one, so nothing needs syncing.
      if ((error as { code?: string }).code === 'ENOENT' && this.#file === undefined) return;
      this.#failed = error;
      throw failure(error);
    }
  }
}

/** Opens the WAL file (it exists once the first commit wrote it) and syncs its directory once. */
async function openWal(path: string): Promise<FileHandle> {
  const file = await open(path, 'r+');
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return file;
}

function failure(cause: unknown): StoreUnavailableError {
  return new StoreUnavailableError('the SQLite store could not sync its write-ahead log', {
    cause,
  });
}
