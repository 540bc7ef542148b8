/**
 * One access-log line per request, written when its response is done: Fastify's default
 * logs "incoming request" and "request completed" (two lines, the first without the
 * outcome); this logs the second alone, with the request's summary and, once the caller
 * is authenticated, its tenant.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/** Pino levels at which `info` lines are written. */
const INFO_ENABLED = new Set(['trace', 'debug', 'info']);

export class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    // Checked first: at `warn` and above nothing is built for a line that is dropped.
    if (!error && !INFO_ENABLED.has(reply.log.level)) return;
    // `req` and `res` go through the logger's serializers (server.ts), as Fastify's do.
    const line = {
      req: request,
      res: reply,
      responseTime: reply.elapsedTime,
      // Who called, once the request was authenticated (null before, or on public routes).
      ...(request.principal ? { tenant: request.principal.tenant } : {}),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
