/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers past the size
 * limit, malformed framing such as a negative or doubled Content-Length, a request that
 * took too long to arrive) answered as problem+json like every other error: Fastify's own
 * handler answers them with a plain JSON body of its own shape.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ProblemError, ProblemType } from './problem.ts';

export function clientErrorProblem(error: Error & { code?: string }): ProblemError {
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return new ProblemError({
      status: 431,
      type: ProblemType.tooLarge,
      title: 'Request headers too large',
      detail: `the request line and headers exceed the server's limit of ${maxHeaderSize} bytes`,
    });
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new ProblemError({
      status: 408,
      type: ProblemType.validation,
      title: 'Request timeout',
      detail: 'the request did not arrive in time',
    });
  return new ProblemError({
    status: 400,
    type: ProblemType.validation,
    title: 'Malformed HTTP request',
    // The parser's own reason (e.g. "Invalid header value char"), never the request's bytes.
    detail: `the request is not valid HTTP/1.1 (${error.code ?? 'unknown'})`,
  });
}

/** Fastify's `clientErrorHandler`: answers on the raw socket, then closes it. */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection, or one already gone: nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const problem = clientErrorProblem(error);
    const body = JSON.stringify(problem.toBody());
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        'content-type: application/problem+json\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n` +
        'connection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
