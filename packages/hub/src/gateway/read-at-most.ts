/**
 * A stream read whole, or undefined once it passes `limit` bytes: an answer or upload
 * without end must not fill the hub's memory. A Node stream or a web ReadableStream; leaving
 * the loop early destroys (cancels) it, which aborts its source.
 */
export async function readAtMost(
  stream: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.byteLength;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
