/**
 * Tells errors that mean "PostgreSQL cannot be reached right now" (so the request should
 * get a 503 and may be retried) from errors in the SQL itself (a bug or bad input).
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
]);

/**
 * SQLSTATEs: shutdown in progress, server starting up, too many connections; and the
 * connection refused for its settings (no such database, bad password, no such role):
 * the store cannot be used as configured, which start-up reports in one line.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '3D000',
  '28P01',
  '28000',
]);

/** pg reports lost or never-made connections with plain Errors and these messages. */
const PG_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|connection timeout|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end/i;

export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    // Class 08: connection exception.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (error instanceof AggregateError && error.errors.some(isConnectionError)) return true;
  return PG_MESSAGES.test(error.message);
}
