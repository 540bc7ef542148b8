/**
 * Tells "NATS or JetStream cannot be reached right now" (503, retry later) from other
 * failures, and turns the former into the hub's one unavailability error.
 */
import { StoreUnavailableError } from '../../store/store-unavailable-error.ts';

const UNAVAILABLE_NAMES = new Set([
  'TimeoutError',
  'NoRespondersError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'ConnectionError',
  'JetStreamNotEnabled',
]);

export function isNatsUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_NAMES.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 503) return true;
  if (error.name === 'RequestError' || error.name === 'JetStreamError')
    return isNatsUnavailable(error.cause);
  return false;
}

export function unavailableOr(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isNatsUnavailable(error)) return error;
  return new StoreUnavailableError(`NATS JetStream is unavailable: ${(error as Error).message}`, {
    cause: error,
  });
}
