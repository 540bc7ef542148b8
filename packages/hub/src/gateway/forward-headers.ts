/**
 * Header hygiene at the gateway. Upstream-bound: hop-by-hop headers (RFC 9110 §7.6.1, and
 * whatever `Connection` names) go, the caller's Authorization goes unless the policy keeps
 * it, and every incoming `x-portico-*` header is dropped before the gateway sets its own, so
 * the tenant and subject an upstream sees are the ones the gateway verified. Client-bound:
 * hop-by-hop headers and framing go (the hub frames the response itself).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/principal.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Client-asserted, so not in the trusted `x-portico-*` set: it only selects a rate limit. */
export const APP_HEADER = 'x-portico-app';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function connectionListed(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

export type ForwardContext = {
  principal: Principal;
  requestId: string;
  clientIp: string;
  protocol: string;
  host: string;
  forwardAuthorization: boolean;
};

export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  ctx: ForwardContext,
): Record<string, string> {
  const listed = connectionListed(incoming.connection);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (name === 'host' || name === 'content-length' || name === 'expect') continue;
    if (name === 'authorization' && !ctx.forwardAuthorization) continue;
    if (name.startsWith('x-portico-') && name !== APP_HEADER) continue;
    if (name === 'x-forwarded-proto' || name === 'x-forwarded-host') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const priorFor = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${ctx.clientIp}` : ctx.clientIp;
  out['x-forwarded-proto'] = ctx.protocol;
  out['x-forwarded-host'] = ctx.host;
  out['x-request-id'] = ctx.requestId;
  out.traceparent = childTraceparent(incoming.traceparent);
  out['x-portico-tenant'] = ctx.principal.tenant;
  out['x-portico-subject'] = ctx.principal.subject;
  out['x-portico-scopes'] = [...ctx.principal.scopes].join(' ');
  return out;
}

/** The same trace with the gateway as the new parent span, or a new trace. */
function childTraceparent(header: string | string[] | undefined): string {
  const value = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase();
  const match = value ? TRACEPARENT.exec(value) : null;
  const span = randomHex(8);
  if (match && !/^0+$/.test(match[1]!) && !/^0+$/.test(match[2]!))
    return `00-${match[1]}-${span}-${match[3]}`;
  return `00-${randomHex(16)}-${span}-01`;
}

/**
 * Random hex from randomUUID, which Node serves from an internal entropy cache (no syscall
 * per request as with randomBytes). A v4 UUID has 122 random bits; 16 bytes of hex keep its
 * fixed version nibble, which is harmless in trace and span ids.
 */
function randomHex(bytes: 8 | 16): string {
  const hex = randomUUID().replaceAll('-', '');
  return bytes === 16 ? hex : hex.slice(16);
}

export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const listed = connectionListed(upstream.connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (name === 'content-length') continue;
    // Set-Cookie must stay separate fields; the others join per RFC 9110 §5.3.
    out[name] = Array.isArray(value) && name !== 'set-cookie' ? value.join(', ') : value;
  }
  return out;
}
