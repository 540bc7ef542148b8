/**
 * Raised when the state store (or the event backbone) cannot be reached: a refused or
 * dropped connection, a timeout, a server shutting down, a database kept busy too long.
 * The HTTP layer answers it with 503 and a Retry-After; the process keeps running and
 * the next call tries again.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}
