/**
 * Header hygiene at the gateway. Upstream-bound: hop-by-hop headers (RFC 9110 §7.6.1, and
 * whatever `Connection` names) go, the caller's Authorization goes unless the policy keeps
 * it, and every incoming `x-portico-*` header is dropped before the gateway sets its own, so
 * the tenant and subject an upstream sees are the ones the gateway verified. Client-bound:
 * hop-by-hop headers and framing go (the hub frames the response itself).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { TraceIds } from './trace-ids.ts';

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

/** Never forwarded upstream as they came: hop-by-hop, framing, and what the gateway sets. */
const NOT_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'expect',
  'x-forwarded-proto',
  'x-forwarded-host',
]);

/** The fields `Connection` names, beyond the common `keep-alive`/`close` (nothing to do). */
function connectionListed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
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
  /** Where the upstream-bound traceparent's new span id (and trace id) come from. */
  traceIds: TraceIds;
  /** Sent as `Authorization: Bearer …` instead of the caller's (a token exchanged for it). */
  upstreamToken?: string;
};

export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  ctx: ForwardContext,
): Record<string, string> {
  const listed = connectionListed(incoming.connection);
  const out: Record<string, string> = {};
  // for…in over the parsed headers: no entries array per request on the hot path.
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || NOT_FORWARDED.has(name) || listed?.has(name)) continue;
    if (name === 'authorization' && !ctx.forwardAuthorization) continue;
    if (name.startsWith('x-portico-') && name !== APP_HEADER) continue;
    out[name] = typeof value === 'string' ? value : value.join(', ');
  }
  const priorFor = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = priorFor ? `${String(priorFor)}, ${ctx.clientIp}` : ctx.clientIp;
  // A caller's `Forwarded` is kept (as its X-Forwarded-For is) with the gateway's own element
  // appended (RFC 7239 §4), so its `host=`/`proto=` are never the last word.
  const priorForwarded = out.forwarded;
  if (priorForwarded !== undefined)
    out.forwarded = `${priorForwarded}, ${forwardedElement(ctx.clientIp, ctx.host, ctx.protocol)}`;
  out['x-forwarded-proto'] = ctx.protocol;
  out['x-forwarded-host'] = ctx.host;
  out['x-request-id'] = ctx.requestId;
  out.traceparent = ctx.traceIds.child(incoming.traceparent);
  out['x-portico-tenant'] = ctx.principal.tenant;
  out['x-portico-subject'] = ctx.principal.subject;
  out['x-portico-scopes'] = scopesHeader(ctx.principal.scopes);
  if (ctx.upstreamToken !== undefined) out.authorization = `Bearer ${ctx.upstreamToken}`;
  return out;
}

/** The gateway's `Forwarded` element: quoted where RFC 7239 needs it (IPv6, host:port). */
function forwardedElement(ip: string, host: string, proto: string): string {
  const quoted = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
  const node = ip.includes(':') ? quoted(`[${ip}]`) : ip;
  return `for=${node};host=${quoted(host)};proto=${proto}`;
}

/** What an HTTP header value may hold (RFC 9110 §5.5 field-vchar, SP, HTAB, obs-text). */
const NOT_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const sendable = new WeakMap<Principal, boolean>();

/**
 * Whether the principal's subject and scopes can be sent as `x-portico-subject` and
 * `x-portico-scopes` as they are. Tokens may carry any Unicode there; a header cannot, and
 * the value is not escaped (an escaped `日本` could equal another caller's literal subject).
 */
export function identityHeadersSendable(principal: Principal): boolean {
  let ok = sendable.get(principal);
  if (ok === undefined) {
    ok =
      !NOT_FIELD_VALUE.test(principal.subject) &&
      !NOT_FIELD_VALUE.test(scopesHeader(principal.scopes));
    sendable.set(principal, ok);
  }
  return ok;
}

/** The scopes header value, once per principal (verified principals are reused per token). */
const scopeHeaders = new WeakMap<ReadonlySet<string>, string>();
function scopesHeader(scopes: ReadonlySet<string>): string {
  let value = scopeHeaders.get(scopes);
  if (value === undefined) {
    value = [...scopes].join(' ');
    scopeHeaders.set(scopes, value);
  }
  return value;
}

/**
 * The upstream's response headers as the client gets them. `keepLength`: the body is passed
 * on unchanged, so its Content-Length stays (the client gets fixed-length framing, not
 * chunked); otherwise the hub frames the body it sends itself.
 */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
  keepLength = false,
): Record<string, string | string[]> {
  const listed = connectionListed(upstream.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    if (name === 'content-length' && !keepLength) continue;
    // Set-Cookie must stay separate fields; the others join per RFC 9110 §5.3.
    out[name] = Array.isArray(value) && name !== 'set-cookie' ? value.join(', ') : value;
  }
  return out;
}

/**
 * clientResponseHeaders straight from undici's raw header list (name, value, name, value …),
 * for responses forwarded without undici's parsed-headers object: the same result as
 * parsing them (names lower-cased, repeats collected) and then clientResponseHeaders, in
 * one pass.
 */
export function clientHeadersFromRaw(
  raw: readonly (Buffer | string)[],
  keepLength: boolean,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let connection: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') connection = connection ? `${connection}, ${value}` : value;
    if (HOP_BY_HOP.has(name) || (name === 'content-length' && !keepLength)) continue;
    if (name === '__proto__') continue;
    const prior = out[name];
    // Set-Cookie must stay separate fields; the others join per RFC 9110 §5.3.
    if (prior === undefined) out[name] = value;
    else if (name !== 'set-cookie') out[name] = `${String(prior)}, ${value}`;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [prior, value];
  }
  const listed = connectionListed(connection);
  if (listed) for (const name of listed) delete out[name];
  return out;
}
