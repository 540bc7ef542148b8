import type { Readable } from 'node:stream';

/**
 * A stream read whole, or undefined (and the stream destroyed, which aborts its source) once
 * it passes `limit` bytes: an answer or upload without end must not fill the hub's memory.
 */
export async function readAtMost(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
