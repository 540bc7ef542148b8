import { describe, expect, it } from 'vitest';
import { readHubResponse } from './hub-client.ts';

describe('readHubResponse', () => {
  it('shows a problem’s title and detail', async () => {
    const problem = new Response(
      JSON.stringify({ title: 'Invalid CloudEvent', status: 400, detail: 'type must have …' }),
      { status: 400, headers: { 'content-type': 'application/problem+json' } },
    );
    await expect(readHubResponse(problem)).rejects.toThrow(
      '400 Invalid CloudEvent: type must have …',
    );
  });

  it('says what answered when it is not a hub (an HTML page), not a JSON parse error', async () => {
    const page = new Response('<!DOCTYPE html><p>It works!</p>', {
      status: 200,
      headers: { 'content-type': 'text/html' },
    });
    await expect(readHubResponse(page)).rejects.toThrow(
      'the hub answered 200 with text/html, not JSON: is it a Portico hub?',
    );
  });
});
