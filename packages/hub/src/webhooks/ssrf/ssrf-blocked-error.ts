/**
 * Raised when the SSRF policy refuses a target: a URL it does not accept, or an address in a
 * blocked range (as written in the URL, as answered by DNS, or as seen on the socket).
 * Messages name the address and the range, never the URL (its path or query may carry tokens).
 */
export class SsrfBlockedError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  /** The refused IP address, when the refusal is about an address. */
  readonly address: string | undefined;
  /** The blocked range it fell in, e.g. `loopback 127.0.0.0/8`. */
  readonly range: string | undefined;

  constructor(message: string, details: { address?: string; range?: string } = {}) {
    super(message);
    this.name = 'SsrfBlockedError';
    this.address = details.address;
    this.range = details.range;
  }
}
