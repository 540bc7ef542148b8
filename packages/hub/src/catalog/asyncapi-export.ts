/**
 * The portal's events as one AsyncAPI 3.0 document, built from app manifests:
 *
 * - a channel per event type (id = the type, address = its topic `domain.<env>.entity.action`);
 * - on it, a message per app that publishes the type (id = the app), whose payload is that
 *   app's schema; a type nobody in the document publishes carries its consumers' schemas;
 * - an operation per app and event: `<app>.send.<type>` (publishes) or
 *   `<app>.receive.<type>` (consumes), tagged with the app's name and owning team;
 * - payload schemas under `components/schemas/<app>.<type>`: a payload's own local `$ref`s
 *   (`#/$defs/X`, `#`) are rewritten to point there, its root `$id`/`$schema` dropped, and
 *   a `$ref` to another document (e.g. another registry subject) is replaced by a
 *   described placeholder, because an AsyncAPI reader would otherwise try to fetch it.
 */
import { topicForType } from '../events/topic.ts';
import type { AppManifest, EventDeclaration } from './manifest-schema.ts';

export type ExportedApp = {
  manifest: AppManifest;
  /** The payload schema of a declared event (inline, or its registry subject resolved). */
  schemaOf(event: EventDeclaration): unknown;
};

type Obj = Record<string, unknown>;

export function buildAsyncApi(
  apps: readonly ExportedApp[],
  info: { title: string; version: string; description?: string; env: string },
): Obj {
  const channels: Obj = {};
  const operations: Obj = {};
  const schemas: Obj = {};
  const types = new Map<string, { publishers: ExportedApp[]; consumers: ExportedApp[] }>();
  const entry = (type: string) => {
    let e = types.get(type);
    if (!e) types.set(type, (e = { publishers: [], consumers: [] }));
    return e;
  };
  for (const app of apps) {
    for (const event of app.manifest.events?.publishes ?? [])
      entry(event.type).publishers.push(app);
    for (const event of app.manifest.events?.consumes ?? []) entry(event.type).consumers.push(app);
  }
  for (const [type, { publishers, consumers }] of [...types].sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const direction = publishers.length > 0 ? 'publishes' : 'consumes';
    const senders = publishers.length > 0 ? publishers : consumers;
    const messages: Obj = {};
    for (const app of senders) {
      const event = declaration(app, direction, type)!;
      const schema = app.schemaOf(event);
      const key = `${app.manifest.name}.${type}`;
      if (schema !== undefined) schemas[key] = relocate(schema, `#/components/schemas/${key}`);
      messages[app.manifest.name] = {
        name: type,
        title: `${type} from ${app.manifest.name}`,
        ...(event.description ? { summary: event.description } : {}),
        contentType: 'application/json',
        ...(schema !== undefined ? { payload: { $ref: `#/components/schemas/${key}` } } : {}),
        'x-portico-app': app.manifest.name,
        'x-portico-owner': app.manifest.owner.team,
        ...(event.schemaRef ? { 'x-portico-schema-ref': event.schemaRef } : {}),
      };
    }
    channels[type] = {
      address: topicForType(type, info.env),
      title: type,
      messages,
    };
    const messageRefs = Object.keys(messages).map((id) => ({
      $ref: `#/channels/${type}/messages/${id}`,
    }));
    for (const [action, list] of [
      ['send', publishers],
      ['receive', consumers],
    ] as const)
      for (const app of list) {
        const mine =
          action === 'send'
            ? [{ $ref: `#/channels/${type}/messages/${app.manifest.name}` }]
            : messageRefs;
        operations[`${app.manifest.name}.${action}.${type}`] = {
          action,
          channel: { $ref: `#/channels/${type}` },
          messages: mine,
          tags: [{ name: app.manifest.name }, { name: `team:${app.manifest.owner.team}` }],
          'x-portico-app': app.manifest.name,
        };
      }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas },
  };
}

function declaration(app: ExportedApp, direction: 'publishes' | 'consumes', type: string) {
  return app.manifest.events?.[direction]?.find((e) => e.type === type);
}

/** A payload schema made to live at `base` inside another document (see the module comment). */
export function relocate(schema: unknown, base: string): unknown {
  const walk = (value: unknown, root: boolean): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, false));
    if (typeof value !== 'object' || value === null) return value;
    const out: Obj = {};
    for (const [key, child] of Object.entries(value as Obj)) {
      if (root && (key === '$id' || key === '$schema')) continue;
      if (key === '$ref' && typeof child === 'string') {
        if (child.startsWith('#')) out.$ref = `${base}${child.slice(1)}`;
        else {
          out.description = `A reference to ${child.slice(0, 300)} (not inlined here)`;
          out['x-portico-ref'] = child;
        }
        continue;
      }
      out[key] = walk(child, false);
    }
    return out;
  };
  if (typeof schema === 'boolean') return schema ? {} : { not: {} };
  return walk(schema, true);
}
