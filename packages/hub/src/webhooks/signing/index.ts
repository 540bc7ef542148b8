export {
  decodeEd25519PublicKey,
  ed25519PublicKeyOf,
  generateEd25519KeyPair,
  generateSecret,
  MAX_HMAC_SECRET_BYTES,
  MIN_HMAC_SECRET_BYTES,
} from './secrets.ts';
export type { Ed25519KeyPair } from './secrets.ts';
export { createSigner, signatureHeaders } from './signer.ts';
export type { SignatureInput, Signer, SigningSecret, WebhookSignatureHeaders } from './signer.ts';
