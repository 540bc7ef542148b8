/**
 * Breaking changes between two versions of an API, from its clients' point of view. Both
 * documents are valid OpenAPI 3.x with local `$ref`s only (see openapi-document.ts).
 *
 * | change                                                         | verdict                      |
 * | -------------------------------------------------------------- | ---------------------------- |
 * | path or operation removed                                      | breaking                     |
 * | required parameter added, optional parameter made required     | breaking                     |
 * | parameter schema no longer accepts old values (BACKWARD)       | breaking                     |
 * | parameter style/explode changed                                | breaking                     |
 * | request body made required / added as required                 | breaking                     |
 * | request media type removed                                     | breaking                     |
 * | request body schema no longer accepts old bodies (BACKWARD)    | breaking                     |
 * | 2xx response removed, response media type removed              | breaking (narrowed response) |
 * | required response header removed                               | breaking                     |
 * | response schema returns what old clients refuse (FORWARD)      | breaking                     |
 * | query/header/cookie parameter removed, security changed        | warning                      |
 * | anything added that clients may ignore                         | info                         |
 *
 * Schemas are compared with the registry's checker; each schema is given the document's
 * `components` so that `#/components/…` references (recursive ones too) resolve.
 * OpenAPI 3.0 `nullable: true` is read as the JSON Schema `type: [T, "null"]`.
 */
import type { CheckBudget } from '../registry/compatibility/index.ts';
import type { ContractChange } from './contract-change.ts';
import type { OpenApiDocument } from './openapi-document.ts';
import { schemaChanges, type DataDirection } from './schema-diff.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Obj = Record<string, unknown>;

/** One document, normalised; `memo` (on the previous side) caches schema comparisons. */
type Side = {
  doc: OpenApiDocument;
  components: unknown;
  memo: Map<string, ContractChange[]>;
  budget: CheckBudget | undefined;
};

type Parameter = {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
  content?: Obj;
  style?: string;
  explode?: boolean;
};

/** `budget`: the schema checker's work budget, shared with the request's other checks. */
export function openApiChanges(
  previous: OpenApiDocument,
  next: OpenApiDocument,
  label: string,
  budget?: CheckBudget,
): ContractChange[] {
  const a: Side = side(previous, budget);
  const b: Side = side(next, budget);
  const out: ContractChange[] = [];
  const at = (where: string) => `openapi ${label}: ${where}`;

  const nextPaths = indexPaths(b);
  const previousPaths = indexPaths(a);
  for (const [key, old] of previousPaths) {
    const now = nextPaths.get(key);
    for (const method of METHODS) {
      const oldOp = old.item[method];
      if (!isObj(oldOp)) continue;
      const where = `${method.toUpperCase()} ${old.path}`;
      const newOp = now?.item[method];
      if (!isObj(newOp)) {
        out.push({
          severity: 'breaking',
          code: now ? 'operation-removed' : 'path-removed',
          location: at(where),
          detail: now
            ? `${where} is no longer offered; clients calling it will fail`
            : `the path ${old.path} is gone; clients calling ${where} will fail`,
        });
        continue;
      }
      out.push(
        ...operationChanges(
          a,
          b,
          [old.path, now!.path],
          old.item,
          oldOp,
          now!.item,
          newOp,
          at(where),
        ),
      );
    }
  }
  for (const [key, now] of nextPaths) {
    const old = previousPaths.get(key);
    for (const method of METHODS)
      if (isObj(now.item[method]) && !isObj(old?.item[method]))
        out.push({
          severity: 'info',
          code: 'operation-added',
          location: at(`${method.toUpperCase()} ${now.path}`),
          detail: 'a new operation',
        });
  }
  return out;
}

function operationChanges(
  a: Side,
  b: Side,
  paths: [string, string],
  oldItem: Obj,
  oldOp: Obj,
  newItem: Obj,
  newOp: Obj,
  where: string,
): ContractChange[] {
  const out: ContractChange[] = [];
  out.push(...parameterChanges(a, b, paths[0], paths[1], oldItem, oldOp, newItem, newOp, where));
  out.push(...requestBodyChanges(a, b, oldOp, newOp, where));
  out.push(...responseChanges(a, b, oldOp, newOp, where));
  const oldSecurity = JSON.stringify(oldOp.security ?? a.doc.security ?? []);
  const newSecurity = JSON.stringify(newOp.security ?? b.doc.security ?? []);
  if (oldSecurity !== newSecurity)
    out.push({
      severity: 'warning',
      code: 'security-changed',
      location: where,
      detail: `security requirements changed from ${oldSecurity} to ${newSecurity}; clients may need other credentials or scopes`,
    });
  return out;
}

function parameterChanges(
  a: Side,
  b: Side,
  oldPath: string,
  newPath: string,
  oldItem: Obj,
  oldOp: Obj,
  newItem: Obj,
  newOp: Obj,
  where: string,
): ContractChange[] {
  const out: ContractChange[] = [];
  const before = parameters(a, oldPath, oldItem, oldOp);
  const after = parameters(b, newPath, newItem, newOp);
  for (const [key, p] of after) {
    const old = before.get(key);
    const label = `${where} → ${p.in} parameter "${p.name}"`;
    if (!old) {
      out.push(
        p.required
          ? {
              severity: 'breaking',
              code: 'required-parameter-added',
              location: label,
              detail: 'a new required parameter: existing clients do not send it',
            }
          : {
              severity: 'info',
              code: 'parameter-added',
              location: label,
              detail: 'a new optional parameter',
            },
      );
      continue;
    }
    if (p.required && !old.required)
      out.push({
        severity: 'breaking',
        code: 'parameter-became-required',
        location: label,
        detail: 'the parameter was optional and is now required: clients that omit it will fail',
      });
    if ((old.style ?? '') !== (p.style ?? '') || (old.explode ?? '') !== (p.explode ?? ''))
      out.push({
        severity: 'breaking',
        code: 'parameter-serialization-changed',
        location: label,
        detail: `style/explode changed (${old.style ?? 'default'}/${String(old.explode ?? 'default')} → ${p.style ?? 'default'}/${String(p.explode ?? 'default')}): clients serialise it differently`,
      });
    const oldSchema = parameterSchema(old);
    const newSchema = parameterSchema(p);
    if (oldSchema !== undefined && newSchema !== undefined)
      out.push(...compareSchemas(a, b, oldSchema, newSchema, 'reads', label));
  }
  for (const [key, old] of before)
    if (!after.has(key) && old.in !== 'path')
      out.push({
        severity: 'warning',
        code: 'parameter-removed',
        location: `${where} → ${old.in} parameter "${old.name}"`,
        detail: 'clients that still send it are no longer understood (the server ignores it)',
      });
  return out;
}

function requestBodyChanges(
  a: Side,
  b: Side,
  oldOp: Obj,
  newOp: Obj,
  where: string,
): ContractChange[] {
  const old = deref(a, oldOp.requestBody);
  const now = deref(b, newOp.requestBody);
  const label = `${where} → request body`;
  if (!isObj(now)) {
    return isObj(old)
      ? [
          {
            severity: 'warning',
            code: 'request-body-removed',
            location: label,
            detail: 'the request body is no longer read',
          },
        ]
      : [];
  }
  if (!isObj(old))
    return [
      now.required === true
        ? {
            severity: 'breaking',
            code: 'request-body-added-required',
            location: label,
            detail: 'a required request body: existing clients send none',
          }
        : {
            severity: 'info',
            code: 'request-body-added',
            location: label,
            detail: 'an optional request body',
          },
    ];
  const out: ContractChange[] = [];
  if (now.required === true && old.required !== true)
    out.push({
      severity: 'breaking',
      code: 'request-body-became-required',
      location: label,
      detail: 'the request body was optional and is now required',
    });
  const oldContent = isObj(old.content) ? old.content : {};
  const newContent = isObj(now.content) ? now.content : {};
  for (const [type, media] of Object.entries(oldContent)) {
    const match = newContent[type];
    if (!isObj(match)) {
      out.push({
        severity: 'breaking',
        code: 'request-media-type-removed',
        location: `${label} ${type}`,
        detail: `${type} bodies are no longer accepted`,
      });
      continue;
    }
    const s0 = isObj(media) ? media.schema : undefined;
    if (s0 !== undefined && match.schema !== undefined)
      out.push(...compareSchemas(a, b, s0, match.schema, 'reads', `${label} ${type}`));
  }
  for (const type of Object.keys(newContent))
    if (!(type in oldContent))
      out.push({
        severity: 'info',
        code: 'request-media-type-added',
        location: `${label} ${type}`,
        detail: 'also accepted now',
      });
  return out;
}

function responseChanges(
  a: Side,
  b: Side,
  oldOp: Obj,
  newOp: Obj,
  where: string,
): ContractChange[] {
  const out: ContractChange[] = [];
  const before = isObj(oldOp.responses) ? oldOp.responses : {};
  const after = isObj(newOp.responses) ? newOp.responses : {};
  for (const [status, raw] of Object.entries(before)) {
    const label = `${where} → response ${status}`;
    const matchKey =
      status in after ? status : rangeOf(status) in after ? rangeOf(status) : undefined;
    if (matchKey === undefined) {
      out.push(
        /^2/.test(status)
          ? {
              severity: 'breaking',
              code: 'success-response-removed',
              location: label,
              detail: `clients expecting ${status} and its content get something else`,
            }
          : {
              severity: 'info',
              code: 'response-removed',
              location: label,
              detail: 'no longer documented',
            },
      );
      continue;
    }
    const old = deref(a, raw);
    const now = deref(b, after[matchKey]);
    if (!isObj(old) || !isObj(now)) continue;
    const oldContent = isObj(old.content) ? old.content : {};
    const newContent = isObj(now.content) ? now.content : {};
    for (const [type, media] of Object.entries(oldContent)) {
      const match = newContent[type];
      if (!isObj(match)) {
        out.push({
          severity: 'breaking',
          code: 'response-media-type-removed',
          location: `${label} ${type}`,
          detail: `${type} is no longer returned; clients reading it fail`,
        });
        continue;
      }
      const s0 = isObj(media) ? media.schema : undefined;
      if (s0 !== undefined && match.schema !== undefined)
        out.push(...compareSchemas(a, b, s0, match.schema, 'writes', `${label} ${type}`));
    }
    const oldHeaders = isObj(old.headers) ? old.headers : {};
    const newHeaders = isObj(now.headers) ? now.headers : {};
    const newNames = new Map(Object.keys(newHeaders).map((h) => [h.toLowerCase(), h]));
    for (const [name, rawHeader] of Object.entries(oldHeaders)) {
      const header = deref(a, rawHeader);
      const match = newNames.get(name.toLowerCase());
      if (match === undefined) {
        const required = isObj(header) && header.required === true;
        out.push({
          severity: required ? 'breaking' : 'warning',
          code: 'response-header-removed',
          location: `${label} header ${name}`,
          detail: required ? 'a required response header is no longer sent' : 'no longer sent',
        });
        continue;
      }
      const newHeader = deref(b, newHeaders[match]);
      if (
        isObj(header) &&
        isObj(newHeader) &&
        header.schema !== undefined &&
        newHeader.schema !== undefined
      )
        out.push(
          ...compareSchemas(
            a,
            b,
            header.schema,
            newHeader.schema,
            'writes',
            `${label} header ${name}`,
          ),
        );
    }
  }
  for (const status of Object.keys(after))
    if (!(status in before))
      out.push({
        severity: 'info',
        code: 'response-added',
        location: `${where} → response ${status}`,
        detail: 'a new response (clients that do not know it treat it by its class)',
      });
  return out;
}

/** Path templates match whatever their parameters are called: `/a/{id}` is `/a/{invoiceId}`. */
function indexPaths(s: Side): Map<string, { path: string; item: Obj }> {
  const out = new Map<string, { path: string; item: Obj }>();
  for (const [path, raw] of Object.entries(isObj(s.doc.paths) ? s.doc.paths : {})) {
    const item = deref(s, raw);
    if (isObj(item)) out.set(path.replace(/\{[^}]*\}/g, '{}'), { path, item });
  }
  return out;
}

/** Path-level parameters overridden by operation-level ones; path parameters keyed by position. */
function parameters(s: Side, path: string, item: Obj, op: Obj): Map<string, Parameter> {
  const template = [...path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
  const out = new Map<string, Parameter>();
  const all = [
    ...(Array.isArray(item.parameters) ? item.parameters : []),
    ...(Array.isArray(op.parameters) ? op.parameters : []),
  ];
  const byName = new Map<string, Parameter>();
  for (const raw of all) {
    const p = deref(s, raw);
    if (isObj(p) && typeof p.name === 'string' && typeof p.in === 'string')
      byName.set(
        `${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`,
        p as unknown as Parameter,
      );
  }
  for (const [key, p] of byName)
    out.set(p.in === 'path' ? `path:#${template.indexOf(p.name)}` : key, p);
  return out;
}

function parameterSchema(p: Parameter): unknown {
  if (p.schema !== undefined) return p.schema;
  const first = p.content ? Object.values(p.content)[0] : undefined;
  return isObj(first) ? first.schema : undefined;
}

function rangeOf(status: string): string {
  return /^[1-5]\d\d$/.test(status) ? `${status[0]}XX` : status;
}

/** Follows local `$ref`s of non-schema objects (parameters, bodies, responses, headers, path items). */
function deref(s: Side, value: unknown, depth = 0): unknown {
  if (!isObj(value) || typeof value.$ref !== 'string' || depth > 32) return value;
  const ref = value.$ref;
  if (!ref.startsWith('#')) return undefined;
  let target: unknown = s.doc;
  for (const token of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(token).replaceAll('~1', '/').replaceAll('~0', '~');
    target = isObj(target) || Array.isArray(target) ? (target as Obj)[key] : undefined;
  }
  return deref(s, target, depth + 1);
}

/**
 * A schema change in context. Operations share schemas (the same `$ref` in every response
 * of a resource): each distinct pair is compared once per document pair, so a large API
 * with one changed component costs one walk per distinct schema, not one per operation.
 */
function compareSchemas(
  a: Side,
  b: Side,
  before: unknown,
  after: unknown,
  how: DataDirection,
  location: string,
): ContractChange[] {
  const key = `${how}\u0000${JSON.stringify(before)}\u0000${JSON.stringify(after)}`;
  let found = a.memo.get(key);
  if (!found) {
    found = schemaChanges(withComponents(before, a), withComponents(after, b), how, '', {
      ...(a.budget ? { budget: a.budget } : {}),
    });
    a.memo.set(key, found);
  }
  return found.map((c) => ({ ...c, location }));
}

function withComponents(schema: unknown, s: Side): unknown {
  if (!isObj(schema) || s.components === undefined) return schema;
  return { ...schema, components: s.components };
}

function side(doc: OpenApiDocument, budget: CheckBudget | undefined): Side {
  const normalised = doc.openapi.startsWith('3.0') ? (nullableToType(doc) as OpenApiDocument) : doc;
  return { doc: normalised, components: normalised.components, memo: new Map(), budget };
}

/** OpenAPI 3.0's `nullable: true` as JSON Schema: `type: T` becomes `type: [T, "null"]`. */
function nullableToType(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(nullableToType);
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) out[k] = nullableToType(v);
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  return out;
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
