import type { FastifyRequest } from 'fastify';

/** A stream ticket is single-use and short-lived, but still a credential: not for logs. */
export function withoutTicket(url: string): string {
  return url.replace(/([?&]ticket=)[^&#]*/g, '$1[redacted]');
}

/** Fastify's request summary for the logs, with the URL's stream ticket cut out. */
export function requestLogSummary(request: FastifyRequest) {
  return {
    method: request.method,
    url: withoutTicket(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
