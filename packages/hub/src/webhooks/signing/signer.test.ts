import { verify } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { decodeEd25519PublicKey, generateEd25519KeyPair, generateSecret } from './secrets.ts';
import { createSigner, signatureHeaders } from './signer.ts';

const body = JSON.stringify({
  specversion: '1.0',
  id: 'evt_1',
  type: 'billing.invoice.paid',
  data: { amount: 42, note: 'é✓' },
});
const now = () => Math.floor(Date.now() / 1000);

describe('HMAC (v1) signatures', () => {
  it('are verified by the standardwebhooks library and produce the same string it would', () => {
    const secret = generateSecret();
    const timestamp = new Date();
    const headers = signatureHeaders({
      msgId: 'msg_1',
      timestamp,
      body,
      secrets: [{ kind: 'hmac', secret }],
    });

    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(new StandardWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(headers['webhook-signature']).toBe(
      new StandardWebhook(secret).sign('msg_1', timestamp, body),
    );
  });

  it('are verified by the svix library, with webhook-* headers as sent and with svix-* names', () => {
    const secret = generateSecret(24);
    const headers = createSigner([{ kind: 'hmac', secret }])({
      msgId: 'msg_2',
      timestamp: now(),
      body,
    });
    // svix reads svix-* first and falls back to webhook-*, so Portico's headers need no mapping.
    expect(new SvixWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    const svixNamed = {
      'svix-id': headers['webhook-id'],
      'svix-timestamp': headers['webhook-timestamp'],
      'svix-signature': headers['webhook-signature'],
    };
    expect(new SvixWebhook(secret).verify(body, svixNamed)).toEqual(JSON.parse(body));
  });

  it('during a rotation carry both signatures, and either secret verifies the same delivery', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    const sign = createSigner([
      { kind: 'hmac', secret: newSecret },
      { kind: 'hmac', secret: oldSecret },
    ]);
    const headers = sign({ msgId: 'msg_3', timestamp: now(), body });

    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    for (const secret of [oldSecret, newSecret]) {
      expect(new StandardWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
      expect(new SvixWebhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
    expect(() => new StandardWebhook(generateSecret()).verify(body, headers)).toThrow(
      /No matching signature/,
    );
  });

  it('with a timestamp older than 5 minutes are rejected by the verifiers', () => {
    const secret = generateSecret();
    const sign = createSigner([{ kind: 'hmac', secret }]);
    const stale = sign({ msgId: 'msg_4', timestamp: now() - 301, body });
    expect(() => new StandardWebhook(secret).verify(body, stale)).toThrow(/too old/);
    expect(() => new SvixWebhook(secret).verify(body, stale)).toThrow(/too old/);
    const recent = sign({ msgId: 'msg_4', timestamp: now() - 240, body });
    expect(() => new StandardWebhook(secret).verify(body, recent)).not.toThrow();
  });

  it('fail for a tampered body, id or timestamp', () => {
    const secret = generateSecret();
    const headers = createSigner([{ kind: 'hmac', secret }])({
      msgId: 'msg_5',
      timestamp: now(),
      body,
    });
    const verifier = new StandardWebhook(secret);
    expect(() => verifier.verify(body.replace('42', '43'), headers)).toThrow(
      /No matching signature/,
    );
    expect(() => verifier.verify(body, { ...headers, 'webhook-id': 'msg_6' })).toThrow(
      /No matching signature/,
    );
    const ts = String(Number(headers['webhook-timestamp']) - 1);
    expect(() => verifier.verify(body, { ...headers, 'webhook-timestamp': ts })).toThrow(
      /No matching signature/,
    );
  });

  it('sign bytes and the equivalent string identically', () => {
    const sign = createSigner([{ kind: 'hmac', secret: generateSecret() }]);
    const input = { msgId: 'msg_7', timestamp: 1_700_000_000 };
    expect(sign({ ...input, body: new TextEncoder().encode(body) })).toEqual(
      sign({ ...input, body }),
    );
  });
});

describe('ed25519 (v1a) signatures', () => {
  it('verify with node:crypto and the whpk_ public key', () => {
    const { secret, publicKey } = generateEd25519KeyPair();
    const timestamp = now();
    const headers = createSigner([{ kind: 'ed25519', secret }])({
      msgId: 'msg_8',
      timestamp,
      body,
    });

    const [version, signature] = headers['webhook-signature'].split(',');
    expect(version).toBe('v1a');
    const key = decodeEd25519PublicKey(publicKey);
    const content = Buffer.from(`msg_8.${timestamp}.${body}`);
    expect(verify(null, content, key, Buffer.from(signature!, 'base64'))).toBe(true);
    expect(
      verify(
        null,
        Buffer.from(`msg_8.${timestamp}.${body} `),
        key,
        Buffer.from(signature!, 'base64'),
      ),
    ).toBe(false);
    const otherKey = decodeEd25519PublicKey(generateEd25519KeyPair().publicKey);
    expect(verify(null, content, otherKey, Buffer.from(signature!, 'base64'))).toBe(false);
  });

  it('match the reference (Go) library test vector byte for byte', () => {
    // libraries/go/webhook_asymmetric_test.go, TestAsymmetricWebhookSign in standard-webhooks/standard-webhooks.
    const headers = createSigner([
      { kind: 'ed25519', secret: 'whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=' },
    ])({
      msgId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      timestamp: 1614265330,
      body: '{"test": 2432232314}',
    });
    expect(headers['webhook-signature']).toBe(
      'v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==',
    );
  });

  it('sit beside HMAC signatures, which HMAC-only verifiers still accept', () => {
    const hmac = generateSecret();
    const { secret } = generateEd25519KeyPair();
    const headers = createSigner([
      { kind: 'ed25519', secret },
      { kind: 'hmac', secret: hmac },
    ])({ msgId: 'msg_9', timestamp: now(), body });
    expect(headers['webhook-signature']).toMatch(/^v1a,\S+ v1,\S+$/);
    expect(new StandardWebhook(hmac).verify(body, headers)).toEqual(JSON.parse(body));
  });
});

describe('signer input checks', () => {
  const sign = createSigner([{ kind: 'hmac', secret: generateSecret() }]);

  it.each(['', 'msg.1', 'msg 1', 'msg\r\nx-evil: 1'])('refuses msgId %j', (msgId) => {
    expect(() => sign({ msgId, timestamp: now(), body })).toThrow(TypeError);
  });

  it.each([-1, 1.5, Number.NaN, new Date('nope')])('refuses timestamp %s', (timestamp) => {
    expect(() => sign({ msgId: 'msg_1', timestamp, body })).toThrow(RangeError);
  });

  it('refuses no secrets, and a secret of the wrong kind', () => {
    expect(() => createSigner([])).toThrow(RangeError);
    expect(() => createSigner([{ kind: 'ed25519', secret: generateSecret() }])).toThrow(/whsk_/);
    expect(() => createSigner([{ kind: 'hmac', secret: generateEd25519KeyPair().secret }])).toThrow(
      /whsec_/,
    );
  });
});
