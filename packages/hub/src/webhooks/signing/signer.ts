/**
 * Standard Webhooks signature headers: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
 *
 * The signed content is `{id}.{timestamp}.{body}`. Each secret adds one entry to the
 * space-separated signature list: `v1,<base64 HMAC-SHA256>` for `whsec_` secrets and
 * `v1a,<base64 ed25519>` for `whsk_` secrets, so during a rotation one delivery carries the
 * old and the new signature and a receiver holding either secret verifies it.
 */
import { createHmac, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeEd25519Secret, decodeHmacSecret } from './secrets.ts';

export type SigningSecret = { kind: 'hmac'; secret: string } | { kind: 'ed25519'; secret: string };

export type SignatureInput = {
  /** Stable across retries of one event to one endpoint; printable ASCII without `.` (see below). */
  msgId: string;
  /** The time of this attempt: a Date or integer epoch seconds. */
  timestamp: Date | number;
  /** Exactly the bytes that will be sent (a string is signed as its UTF-8 encoding). */
  body: string | Uint8Array;
};

export type WebhookSignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export type Signer = (input: SignatureInput) => WebhookSignatureHeaders;

type DecodedKey = { kind: 'hmac'; key: KeyObject } | { kind: 'ed25519'; key: KeyObject };

// The spec forbids `.` in the id: `a.1.x` must not be re-readable as another id/timestamp split.
// Anything outside visible ASCII could also smuggle a header line, so that is refused too.
const MSG_ID = /^[\x21-\x2d\x2f-\x7e]+$/;

/**
 * Decodes the secrets once and returns the per-delivery signing function (the hot path).
 * Order is kept: put the newest secret first.
 */
export function createSigner(secrets: readonly SigningSecret[]): Signer {
  if (secrets.length === 0) throw new RangeError('at least one signing secret is required');
  const keys: DecodedKey[] = secrets.map((s) => {
    if (s.kind === 'hmac') return { kind: 'hmac', key: decodeHmacSecret(s.secret) };
    if (s.kind === 'ed25519') return { kind: 'ed25519', key: decodeEd25519Secret(s.secret) };
    throw new TypeError(
      `unknown signing secret kind ${JSON.stringify((s as { kind: unknown }).kind)}`,
    );
  });

  return ({ msgId, timestamp, body }) => {
    if (typeof msgId !== 'string' || !MSG_ID.test(msgId)) {
      throw new TypeError('msgId must be non-empty printable ASCII without "." or spaces');
    }
    const seconds = epochSeconds(timestamp);
    const prefix = `${msgId}.${seconds}.`;
    const signatures = keys.map((k) => {
      if (k.kind === 'hmac') {
        // Two updates instead of one concatenation: no copy of a large body.
        return `v1,${createHmac('sha256', k.key).update(prefix).update(body).digest('base64')}`;
      }
      const content = Buffer.concat([
        Buffer.from(prefix),
        typeof body === 'string' ? Buffer.from(body) : body,
      ]);
      return `v1a,${sign(null, content, k.key).toString('base64')}`;
    });
    return {
      'webhook-id': msgId,
      'webhook-timestamp': String(seconds),
      'webhook-signature': signatures.join(' '),
    };
  };
}

/** One-shot form of createSigner (decodes the secrets on every call: keep it off hot paths). */
export function signatureHeaders(
  input: SignatureInput & { secrets: readonly SigningSecret[] },
): WebhookSignatureHeaders {
  return createSigner(input.secrets)(input);
}

function epochSeconds(timestamp: Date | number): number {
  const seconds = timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError('timestamp must be a valid Date or non-negative integer epoch seconds');
  }
  return seconds;
}
