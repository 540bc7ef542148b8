/** `GET /v1/catalog`: apps, their APIs and the events with their producers and consumers. */
import { topicForType } from '../events/topic.ts';
import type { StoredApp } from './catalog-store.ts';

type Party = { app: string; team: string };

export function catalogOverview(apps: readonly StoredApp[], env: string) {
  const events = new Map<
    string,
    { type: string; topic: string; producers: Party[]; consumers: Party[]; schemas: unknown[] }
  >();
  const event = (type: string) => {
    let e = events.get(type);
    if (!e)
      events.set(
        type,
        (e = { type, topic: topicForType(type, env), producers: [], consumers: [], schemas: [] }),
      );
    return e;
  };
  const apis: unknown[] = [];
  const appViews = apps.map((a) => {
    const m = a.manifest;
    const party = { app: m.name, team: m.owner.team };
    for (const e of m.events?.publishes ?? []) {
      const entry = event(e.type);
      entry.producers.push(party);
      entry.schemas.push({
        app: m.name,
        ...(e.schemaRef ? { schemaRef: e.schemaRef } : { inline: e.schema !== undefined }),
      });
    }
    for (const e of m.events?.consumes ?? []) event(e.type).consumers.push(party);
    const appApis = (m.apis ?? []).map((api) => {
      const doc = api.openapi as { info?: { title?: string; version?: string }; paths?: object };
      const view = {
        app: m.name,
        name: api.name,
        title: doc.info?.title ?? api.name,
        version: doc.info?.version ?? '',
        owner: m.owner,
        operations: countOperations(doc.paths),
        openapi: `/v1/catalog/apps/${m.name}/openapi.json?api=${encodeURIComponent(api.name)}`,
      };
      apis.push(view);
      return { name: view.name, title: view.title, version: view.version, openapi: view.openapi };
    });
    return {
      name: m.name,
      ...(m.version !== undefined ? { version: m.version } : {}),
      ...(m.description !== undefined ? { description: m.description } : {}),
      owner: m.owner,
      domain: m.domain,
      ...(m.ui ? { ui: m.ui } : {}),
      apis: appApis,
      publishes: (m.events?.publishes ?? []).map((e) => e.type),
      consumes: (m.events?.consumes ?? []).map((e) => e.type),
      scopes: m.scopes ?? [],
      ...(m.slas ? { slas: m.slas } : {}),
      revision: a.revision,
      updatedAt: new Date(a.updatedAt).toISOString(),
    };
  });
  return {
    apps: appViews,
    apis,
    events: [...events.values()].sort((x, y) => x.type.localeCompare(y.type)),
  };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

function countOperations(paths: object | undefined): number {
  let n = 0;
  for (const item of Object.values(paths ?? {}))
    if (item && typeof item === 'object')
      for (const key of Object.keys(item)) if (METHODS.has(key)) n += 1;
  return n;
}
