import { deeperThan, tooDeepDetail } from '../http/json-depth.ts';
import { problems } from '../http/problem.ts';
import { firstUnstorable } from '../http/unstorable-values.ts';

/**
 * The CloudEvents 1.0 HTTP protocol binding: turns a request into raw (unvalidated)
 * structured-form events. Structured (`application/cloudevents+json`), batch
 * (`application/cloudevents-batch+json`) and binary (`ce-*` headers, body = data).
 */
export type CloudEventsMode = 'structured' | 'binary' | 'batch';
export type RawEvent = Record<string, unknown>;
export type ParsedRequest = { mode: CloudEventsMode; events: RawEvent[] };

type Headers = Record<string, string | string[] | undefined>;

export function parseCloudEventsRequest(headers: Headers, body: Buffer | undefined): ParsedRequest {
  const contentType = header(headers, 'content-type');
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();

  if (mediaType === 'application/cloudevents+json') {
    requireUtf8(contentType, 'a structured-mode body');
    const parsed = parseJson(body, 'the structured-mode body');
    if (!isObject(parsed))
      throw problems.invalidEvent('a structured-mode body must be one JSON object', [
        { pointer: '/', detail: 'expected a JSON object' },
      ]);
    return { mode: 'structured', events: [parsed] };
  }
  if (mediaType === 'application/cloudevents-batch+json') {
    requireUtf8(contentType, 'a batch body');
    const parsed = parseJson(body, 'the batch body');
    if (!Array.isArray(parsed))
      throw problems.invalidEvent('a batch body must be a JSON array of events', [
        { pointer: '/', detail: 'expected a JSON array' },
      ]);
    if (parsed.length === 0)
      throw problems.invalidEvent('a batch must hold at least one event', [
        { pointer: '/', detail: 'expected at least one event' },
      ]);
    const notObject = parsed.findIndex((e) => !isObject(e));
    if (notObject >= 0)
      throw problems.invalidEvent(
        `batch event ${notObject} is not a JSON object`,
        [{ pointer: `/${notObject}`, detail: 'expected a JSON object' }],
        { index: notObject },
      );
    return { mode: 'batch', events: parsed as RawEvent[] };
  }
  if (header(headers, 'ce-specversion') !== undefined)
    return { mode: 'binary', events: [binaryEvent(headers, contentType, body)] };

  throw problems.unsupportedMediaType(
    `content type ${JSON.stringify(contentType ?? '(none)')} is not a CloudEvents mode: send ` +
      'application/cloudevents+json (structured), application/cloudevents-batch+json (batch), ' +
      'or the binary mode with ce-specversion, ce-id, ce-source and ce-type headers',
  );
}

function binaryEvent(
  headers: Headers,
  contentType: string | undefined,
  body: Buffer | undefined,
): RawEvent {
  const event: RawEvent = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || value === undefined) continue;
    const attribute = name.slice(3);
    // In binary mode the body is the data: a `ce-data` header is not an attribute.
    if (attribute === 'data' || attribute === 'data_base64')
      throw problems.invalidEvent(
        `header ${name} is not a CloudEvents attribute: in the binary mode the data is the body`,
        [{ pointer: `/${attribute}`, detail: 'the data travels in the body', in: 'header' }],
      );
    const text = Array.isArray(value) ? value.join(',') : value;
    event[attribute] = decodeHeaderValue(text, attribute);
  }
  if (contentType) event.datacontenttype = contentType;
  if (body && body.length > 0) {
    if (isJsonMediaType(contentType)) {
      requireUtf8(contentType, 'a binary-mode body declared JSON');
      event.data = parseJson(
        body,
        'the binary-mode body (declared JSON by its content type)',
        '/data',
      );
    } else if (contentType?.startsWith('text/')) {
      event.data = decodeText(body, charsetOf(contentType) ?? 'utf-8');
    } else {
      event.data_base64 = body.toString('base64');
    }
  }
  return event;
}

/** A content type's `charset` parameter, lower-cased; undefined when it has none. */
function charsetOf(contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
}

/** JSON travels as UTF-8 (RFC 8259 §8.1): a body labelled otherwise would be read garbled. */
function requireUtf8(contentType: string | undefined, what: string): void {
  const charset = charsetOf(contentType);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw problems.unsupportedMediaType(
      `${what} is JSON, which is exchanged as UTF-8 (RFC 8259): charset=${charset} is not accepted`,
    );
}

/** A text body in the charset its content type names (415 for one nothing here can read). */
function decodeText(body: Buffer, charset: string): string {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    throw problems.unsupportedMediaType(`charset=${charset} of the binary-mode body is not known`);
  }
  return decoder.decode(body);
}

/** Header values are percent-encoded by the binding (spec 3.1.3.2). */
function decodeHeaderValue(value: string, attribute: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw problems.invalidEvent(`header ce-${attribute} is not correctly percent-encoded`, [
      { pointer: `/${attribute}`, detail: 'invalid percent-encoding', in: 'header' },
    ]);
  }
}

export function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return true; // CloudEvents: absent datacontenttype means JSON
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || media === 'text/json' || media.endsWith('+json');
}

function parseJson(body: Buffer | undefined, what: string, pointer = '/'): unknown {
  if (!body || body.length === 0)
    throw problems.invalidEvent(`${what} is empty`, [{ pointer, detail: 'expected JSON' }]);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw problems.invalidEvent(`${what} is not valid JSON: ${(error as Error).message}`, [
      { pointer, detail: 'not valid JSON' },
    ]);
  }
  // Serialising the event for the log would exhaust the stack (see http/json-depth.ts).
  const tooDeep = deeperThan(value);
  if (tooDeep !== undefined) refuse(what, pointer, tooDeep, tooDeepDetail());
  // 1e999 parses to Infinity, which the log would store as null: refused, not changed.
  const infinite = firstUnstorable(value, { nul: false });
  if (infinite !== undefined) refuse(what, pointer, infinite.pointer, infinite.detail);
  return value;
}

/** A 400 for the value at `at` (a pointer inside the part at `pointer`). */
function refuse(what: string, pointer: string, at: string, detail: string): never {
  const full = pointer === '/' ? at : at === '/' ? pointer : pointer + at;
  throw problems.invalidEvent(`${what}: ${full} ${detail}`, [{ pointer: full, detail }]);
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is RawEvent {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
