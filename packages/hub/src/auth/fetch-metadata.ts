/**
 * Fetches a JSON metadata document (OIDC discovery, JWKS) from an identity provider: bounded in
 * time and size, no redirects (a redirect could point key lookups anywhere), 200 only.
 * Failures are plain Errors whose messages name what failed, never response bodies.
 */

export type FetchMetadataOptions = {
  fetch: typeof fetch;
  timeoutMs: number;
  /** For error messages: "discovery" or "JWKS". */
  what: string;
  accept: string;
};

/** Real discovery documents and key sets are a few KiB. */
const MAX_METADATA_BYTES = 1024 * 1024;

export async function fetchMetadata(url: URL, options: FetchMetadataOptions): Promise<unknown> {
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: 'GET',
      redirect: 'manual',
      headers: { accept: options.accept },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new Error(`${options.what} request ${timedOut ? 'timed out' : 'failed'}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`${options.what} answered HTTP ${response.status}`);
  }
  const text = await readBounded(response, options.what);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${options.what} response is not JSON`);
  }
}

async function readBounded(response: Response, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_METADATA_BYTES) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`${what} response is too large`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return Buffer.concat(chunks).toString('utf8');
      size += value.byteLength;
      if (size > MAX_METADATA_BYTES) break;
      chunks.push(value);
    }
  } catch {
    throw new Error(`${what} response could not be read`);
  }
  await reader.cancel().catch(() => {});
  throw new Error(`${what} response is too large`);
}
