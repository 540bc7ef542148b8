/**
 * Breaking changes between two versions of an AsyncAPI document (2.x or 3.0, through the
 * parser's common model):
 *
 * | change                                                          | verdict  |
 * | --------------------------------------------------------------- | -------- |
 * | channel removed, or its address changed                        | breaking |
 * | message removed from a channel, its content type changed        | breaking |
 * | sending operation removed, its action/channel changed, or a message dropped from it | breaking |
 * | payload or headers schema incompatible (see below)              | breaking |
 * | receiving operation removed (the app stops reading: nobody breaks) | info  |
 * | anything added                                                  | info     |
 *
 * A message's schema is its sender's contract: on a channel some operation `send`s to,
 * the new payload must be readable by old readers (FORWARD); on a channel the
 * application only `receive`s from, it must accept what senders already send
 * (BACKWARD); with no operation, both (FULL). Channels, messages and operations are
 * matched by id; a channel not found by id is looked up by address.
 */
import type {
  AsyncAPIDocumentInterface,
  ChannelInterface,
  MessageInterface,
  SchemaInterface,
} from '@asyncapi/parser';
import type { ContractChange } from './contract-change.ts';
import { escapePointer } from './openapi-document.ts';
import { schemaChanges, type DataDirection } from './schema-diff.ts';

export function asyncApiChanges(
  previous: AsyncAPIDocumentInterface,
  next: AsyncAPIDocumentInterface,
  label: string,
): ContractChange[] {
  const out: ContractChange[] = [];
  const at = (where: string) => `asyncapi ${label}: ${where}`;
  const nextChannels = next.channels().all();
  const byId = new Map(nextChannels.map((c) => [c.id(), c]));
  const byAddress = new Map(nextChannels.map((c) => [c.address() ?? '', c]));
  const matched = new Set<ChannelInterface>();

  for (const old of previous.channels().all()) {
    const where = at(`channel ${old.id()}`);
    const now = byId.get(old.id()) ?? (old.address() ? byAddress.get(old.address()!) : undefined);
    if (!now) {
      out.push({
        severity: 'breaking',
        code: 'channel-removed',
        location: where,
        detail: `the channel (address ${old.address() ?? 'none'}) is gone`,
      });
      continue;
    }
    matched.add(now);
    if ((old.address() ?? null) !== (now.address() ?? null))
      out.push({
        severity: 'breaking',
        code: 'channel-address-changed',
        location: where,
        detail: `the address changed from ${old.address() ?? 'none'} to ${now.address() ?? 'none'}`,
      });
    out.push(...messageChanges(old, now, directionOf(now), where));
  }
  for (const now of nextChannels)
    if (!matched.has(now))
      out.push({
        severity: 'info',
        code: 'channel-added',
        location: at(`channel ${now.id()}`),
        detail: 'a new channel',
      });

  const nextOps = new Map(
    next
      .operations()
      .all()
      .map((o) => [o.id(), o]),
  );
  const previousOps = new Set<string | undefined>();
  for (const old of previous.operations().all()) {
    previousOps.add(old.id());
    const where = at(`operation ${old.id()}`);
    const now = nextOps.get(old.id());
    // isSend(): AsyncAPI 2's `subscribe` is the application sending (3.0's `send`).
    const sends = old.isSend();
    if (!now) {
      out.push(
        sends
          ? {
              severity: 'breaking',
              code: 'operation-removed',
              location: where,
              detail: 'the application no longer sends these messages',
            }
          : {
              severity: 'info',
              code: 'receive-operation-removed',
              location: where,
              detail: 'the application no longer receives these messages',
            },
      );
      continue;
    }
    if (old.isSend() !== now.isSend())
      out.push({
        severity: 'breaking',
        code: 'operation-action-changed',
        location: where,
        detail: `the action changed from ${old.action()} to ${now.action()}`,
      });
    const oldChannels = old
      .channels()
      .all()
      .map((c) => c.id())
      .sort()
      .join(',');
    const newChannels = now
      .channels()
      .all()
      .map((c) => c.id())
      .sort()
      .join(',');
    if (sends && oldChannels !== newChannels)
      out.push({
        severity: 'breaking',
        code: 'operation-channel-changed',
        location: where,
        detail: `it sends on ${newChannels || 'nothing'} instead of ${oldChannels || 'nothing'}`,
      });
    const newMessages = new Set(
      now
        .messages()
        .all()
        .map((m) => m.id()),
    );
    for (const m of old.messages().all())
      if (sends && !newMessages.has(m.id()))
        out.push({
          severity: 'breaking',
          code: 'operation-message-removed',
          location: where,
          detail: `message ${m.id()} is no longer sent`,
        });
  }
  for (const [id] of nextOps)
    if (!previousOps.has(id))
      out.push({
        severity: 'info',
        code: 'operation-added',
        location: at(`operation ${id}`),
        detail: 'a new operation',
      });
  return out;
}

function messageChanges(
  old: ChannelInterface,
  now: ChannelInterface,
  direction: DataDirection,
  where: string,
): ContractChange[] {
  const out: ContractChange[] = [];
  const newMessages = now.messages().all();
  const byId = new Map(newMessages.map((m) => [m.id(), m]));
  const byName = new Map(newMessages.map((m) => [m.name() ?? '', m]));
  const seen = new Set<MessageInterface>();
  for (const m of old.messages().all()) {
    const label = `${where} → message ${m.id()}`;
    const match = byId.get(m.id()) ?? (m.name() ? byName.get(m.name()!) : undefined);
    if (!match) {
      out.push({
        severity: 'breaking',
        code: 'message-removed',
        location: label,
        detail: 'the message is no longer on this channel',
      });
      continue;
    }
    seen.add(match);
    if ((m.contentType() ?? '') !== (match.contentType() ?? ''))
      out.push({
        severity: 'breaking',
        code: 'message-content-type-changed',
        location: label,
        detail: `content type ${m.contentType() ?? 'default'} became ${match.contentType() ?? 'default'}`,
      });
    out.push(
      ...partChanges(
        m.hasPayload() ? m.payload() : undefined,
        match.hasPayload() ? match.payload() : undefined,
        direction,
        `${label} payload`,
      ),
    );
    out.push(
      ...partChanges(
        m.hasHeaders() ? m.headers() : undefined,
        match.hasHeaders() ? match.headers() : undefined,
        direction,
        `${label} headers`,
      ),
    );
  }
  for (const m of newMessages)
    if (!seen.has(m))
      out.push({
        severity: 'info',
        code: 'message-added',
        location: `${where} → message ${m.id()}`,
        detail: 'a new message',
      });
  return out;
}

function partChanges(
  old: SchemaInterface | undefined,
  now: SchemaInterface | undefined,
  direction: DataDirection,
  label: string,
): ContractChange[] {
  if (!old) return [];
  if (!now)
    return [
      {
        severity: direction === 'reads' ? 'info' : 'breaking',
        code: 'schema-removed',
        location: label,
        detail: 'the schema is gone, so any value may now appear',
      },
    ];
  let before: unknown, after: unknown;
  try {
    before = plainSchema(old.json());
    after = plainSchema(now.json());
  } catch (error) {
    return [
      {
        severity: 'warning',
        code: 'schema-not-compared',
        location: label,
        detail: (error as Error).message,
      },
    ];
  }
  return schemaChanges(before, after, direction, label);
}

function directionOf(channel: ChannelInterface): DataDirection {
  const operations = channel.operations().all();
  if (operations.some((o) => o.isSend())) return 'writes';
  if (operations.some((o) => o.isReceive())) return 'reads';
  return 'both';
}

const MAX_NODES = 100_000;

/**
 * The parser hands out dereferenced schemas: recursive ones are cyclic object graphs, and
 * every node carries `x-parser-*` annotations. This makes a tree again, a cycle becoming a
 * local `$ref` to the ancestor it loops back to (which the checker follows safely).
 */
export function plainSchema(value: unknown): unknown {
  const onPath = new Map<object, string>();
  let nodes = 0;
  const walk = (v: unknown, pointer: string): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    const loop = onPath.get(v);
    if (loop !== undefined) return { $ref: `#${loop}` };
    if (++nodes > MAX_NODES) throw new Error(`the schema has more than ${MAX_NODES} nodes`);
    onPath.set(v, pointer);
    let out: unknown;
    if (Array.isArray(v)) out = v.map((x, i) => walk(x, `${pointer}/${i}`));
    else {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v))
        if (!k.startsWith('x-parser-')) o[k] = walk(x, `${pointer}/${escapePointer(k)}`);
      out = o;
    }
    onPath.delete(v);
    return out;
  };
  return walk(value, '');
}
