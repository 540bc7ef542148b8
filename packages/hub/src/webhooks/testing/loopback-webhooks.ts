/**
 * Webhook settings for tests whose receiver listens on loopback: plain HTTP and 127.0.0.0/8
 * allowed past the SSRF guard, retries exactly on schedule (no jitter). Tests add their
 * own schedule and limits.
 */
export const LOOPBACK_WEBHOOKS = {
  allowHttp: true,
  allowCidrs: ['127.0.0.0/8'],
  jitter: 'none',
} as const;
