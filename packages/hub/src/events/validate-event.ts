import { isValidTenantId } from '../auth/principal-from-claims.ts';
import type { FieldError } from '../http/problem.ts';
import { rfc3339Millis } from '../http/rfc3339.ts';
import { eventTypeProblem } from './topic.ts';
import { isJsonMediaType, type RawEvent } from './http-binding.ts';

/** Context attributes Portico understands; anything else must be a valid extension. */
const STRING_ATTRIBUTES = [
  'id',
  'source',
  'type',
  'subject',
  'datacontenttype',
  'dataschema',
  'tenantid',
  'correlationid',
  'traceparent',
  'partitionkey',
] as const;
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;
/** Names that pass EXTENSION_NAME by construction: most events carry only these. */
const KNOWN_NAMES: ReadonlySet<string> = new Set([...STRING_ATTRIBUTES, 'specversion', 'time']);
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/**
 * CloudEvents 1.0's String type excludes control characters (and unpaired surrogates,
 * checked with isWellFormed). PostgreSQL text cannot hold U+0000 at all: in cluster mode an
 * id, source or partitionkey with one was stored in JetStream, then the router's delivery
 * insert failed on it forever and no later event was routed.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** One test per string on the common path: a control character or any surrogate (pairs are fine). */
// eslint-disable-next-line no-control-regex
const SUSPECT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;

/**
 * Every problem with one raw event, as JSON pointers relative to the event. `knownTypes`:
 * event types already found valid (their segments are not checked again).
 */
export function validateEvent(
  event: RawEvent,
  knownTypes?: { has(type: string): boolean },
): FieldError[] {
  const errors: FieldError[] = [];
  const fail = (attribute: string, detail: string) =>
    errors.push({ pointer: `/${attribute}`, detail });

  if (event.specversion === undefined) fail('specversion', 'is required');
  else if (event.specversion !== '1.0')
    fail('specversion', `must be "1.0", got ${JSON.stringify(event.specversion)}`);

  for (const name of ['id', 'source', 'type'] as const)
    if (event[name] === undefined) fail(name, 'is required');
  for (const name of STRING_ATTRIBUTES) {
    const value = event[name];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0))
      fail(name, 'must be a non-empty string');
  }
  if (
    typeof event.type === 'string' &&
    event.type.length > 0 &&
    knownTypes?.has(event.type) !== true
  ) {
    const problem = eventTypeProblem(event.type);
    if (problem) fail('type', problem);
  }
  if (typeof event.id === 'string' && event.id.length > 256)
    fail('id', 'must be at most 256 characters');
  // A delivery row indexes the partition key (ordered targets): PostgreSQL refuses index
  // entries over ~2.7 kB, which stopped the router in cluster mode.
  if (typeof event.partitionkey === 'string' && event.partitionkey.length > 256)
    fail('partitionkey', 'must be at most 256 characters');
  // An admin may publish into another tenant: it becomes a NATS subject token and a
  // column, so it is held to what a token's tenant claim may be.
  if (
    typeof event.tenantid === 'string' &&
    event.tenantid.length > 0 &&
    !isValidTenantId(event.tenantid)
  )
    fail(
      'tenantid',
      'must be a tenant id: 1-128 letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit',
    );
  if (typeof event.source === 'string' && /\s/.test(event.source))
    fail('source', 'must be a URI-reference (no whitespace)');
  if (
    event.time !== undefined &&
    (typeof event.time !== 'string' || rfc3339Millis(event.time) === undefined)
  )
    fail('time', 'must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z');
  if (
    typeof event.dataschema === 'string' &&
    !URL.canParse(event.dataschema) &&
    !event.dataschema.startsWith('/')
  )
    fail('dataschema', 'must be a URI');
  if (typeof event.traceparent === 'string' && !TRACEPARENT.test(event.traceparent))
    fail('traceparent', 'must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)');
  if (event.data !== undefined && event.data_base64 !== undefined)
    fail('data_base64', 'must not be present together with data');
  if (
    event.data_base64 !== undefined &&
    (typeof event.data_base64 !== 'string' || !BASE64.test(event.data_base64))
  )
    fail('data_base64', 'must be a base64 string');
  else if (
    typeof event.data_base64 === 'string' &&
    typeof event.datacontenttype === 'string' &&
    isJsonMediaType(event.datacontenttype) &&
    !isJsonText(Buffer.from(event.data_base64, 'base64').toString('utf8'))
  )
    fail('data_base64', `declared ${event.datacontenttype} but does not decode to JSON`);

  // for…in, not Object.entries: this runs for every published event (no array per event).
  for (const name in event) {
    if (name === 'data' || name === 'data_base64') continue;
    const value = event[name];
    if (!KNOWN_NAMES.has(name) && !EXTENSION_NAME.test(name)) {
      fail(name, 'attribute names must be 1-20 lowercase letters or digits (CloudEvents 1.0)');
      continue;
    }
    const kind = typeof value;
    if (
      value === null ||
      (kind !== 'string' && kind !== 'boolean' && !(kind === 'number' && Number.isInteger(value)))
    )
      fail(name, 'attribute values must be a string, an integer or a boolean');
    else if (
      kind === 'string' &&
      SUSPECT.test(value as string) &&
      (CONTROL.test(value as string) || !(value as string).isWellFormed())
    )
      fail(
        name,
        'must not contain control characters (U+0000-U+001F, U+007F-U+009F) or unpaired surrogates',
      );
  }
  return errors;
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
