/**
 * One access-log line per request, written when its response is done: Fastify's default
 * logs "incoming request" and "request completed" (two lines, the first without the
 * outcome); this logs the second alone, with the request's summary in it too.
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
    // `req` and `res` go through the logger's serializers (server.ts), as Fastify's do.
    if (error)
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    // Checked first: at `warn` and above nothing is built for a line that is dropped.
    else if (INFO_ENABLED.has(reply.log.level))
      reply.log.info(
        { req: request, res: reply, responseTime: reply.elapsedTime },
        'request completed',
      );
  }
}
