/** The dictionary client against a hub (or a proxy in front of it) that answers badly. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ShellError } from '../shell-error.ts';
import { loadDictionary } from './dictionary-client.ts';

const hub = 'https://hub.example';
const getToken = () => 'token';
const dictionary = (baseUrl: string) => ({
  tenant: 'acme',
  domains: [{ name: 'd', apis: [{ name: 'orders', versions: [{ version: 'v1', baseUrl }] }] }],
  settings: {},
});

/** The hub answers each GET /v1/dictionary with the next of `responses`. */
function hubAnswers(...responses: Array<() => Response>) {
  let i = 0;
  vi.stubGlobal('fetch', async () => responses[Math.min(i++, responses.length - 1)]!());
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('a dictionary the shell cannot use', () => {
  it.each([
    [
      'an HTML page',
      () => new Response('<html>login</html>', { status: 200 }),
      /not a JSON object/,
    ],
    ['null', () => Response.json(null), /not a JSON object/],
    ['{}', () => Response.json({}), /no tenant/],
    [
      'settings null',
      () => Response.json({ tenant: 'a', domains: [], settings: null }),
      /no settings/,
    ],
    [
      'domains not a list',
      () => Response.json({ tenant: 'a', domains: {}, settings: {} }),
      /no domains/,
    ],
    [
      'an API without versions',
      () => Response.json({ tenant: 'a', domains: [{ apis: [{ name: 'x' }] }], settings: {} }),
      /no versions/,
    ],
  ])('is refused with a ShellError (http) when the hub answers %s', async (_, answer, why) => {
    hubAnswers(answer);
    const failure = await loadDictionary({ hub, getToken }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ShellError);
    expect(failure).toMatchObject({ code: 'http', message: expect.stringMatching(why) });
  });

  it('keeps the working dictionary when a refresh gets garbage', async () => {
    hubAnswers(
      () => Response.json(dictionary('https://orders.example/v1')),
      () => Response.json({ error: 'upstream timeout' }),
    );
    const client = await loadDictionary({ hub, getToken });
    await expect(client.refresh()).rejects.toMatchObject({ code: 'http' });
    expect(client.baseUrl('orders', 'v1')).toBe('https://orders.example/v1');
  });

  it('never hands a micro-frontend a base URL that is not http(s)', async () => {
    for (const baseUrl of [
      'javascript:alert(document.domain)',
      'data:text/html,<script>x</script>',
    ]) {
      hubAnswers(() => Response.json(dictionary(baseUrl)));
      const client = await loadDictionary({ hub, getToken });
      expect(() => client.baseUrl('orders', 'v1')).toThrow(
        expect.objectContaining({ code: 'invalid' }),
      );
    }
    hubAnswers(() => Response.json(dictionary('/api/orders/v1')));
    const client = await loadDictionary({ hub, getToken });
    expect(client.baseUrl('orders', 'v1')).toBe('https://hub.example/api/orders/v1');
  });
});
