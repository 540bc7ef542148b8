/**
 * A request body streamed to the upstream as it arrives, counted against the version's
 * size limit: past the limit the stream fails and the call ends in a 413, without the body
 * having been held in memory. The caller's fault (too large, or the upload broken off) is
 * kept in `failure` so the upstream call does not count it against the upstream.
 */
import type { Readable } from 'node:stream';
import type { ProblemError } from '../http/problem.ts';
import { problems } from '../http/problem.ts';
import { readAtMost } from './read-at-most.ts';

export class StreamedBody {
  readonly #source: Readable;
  readonly #max: number;
  failure: ProblemError | undefined;

  constructor(source: Readable, maxBytes: number) {
    this.#source = source;
    this.#max = maxBytes;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let size = 0;
    try {
      for await (const chunk of this.#source) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > this.#max) {
          this.failure = problems.tooLarge(
            `this API accepts request bodies up to ${this.#max} bytes`,
          );
          this.#source.destroy();
          throw this.failure;
        }
        yield buf;
      }
    } catch (error) {
      this.failure ??= problems.validation('the request body was not received completely');
      throw error;
    }
  }
}

/** Reads a body of at most `max` bytes whole (the caller checked its declared length). */
export async function readBody(source: Readable, max: number): Promise<Buffer> {
  const body = await readAtMost(source, max);
  if (body === undefined)
    throw problems.tooLarge(`this API accepts request bodies up to ${max} bytes`);
  return body;
}
