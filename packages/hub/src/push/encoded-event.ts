/**
 * One log entry on its way to many connections. The CloudEvent is stringified once; each
 * wire format's frame is built once per distinct list of matched subscription ids and then
 * written, as the same Buffer, to every connection that matched with those ids. In a
 * broadcast (every shell subscribed as "alerts") that is one JSON.stringify and one Buffer
 * per format for thousands of sockets.
 *
 * Message body (both formats):
 *   {"subscriptions":["alerts"],"position":42,"topic":"incident.dev.ticket.created","event":{…}}
 * WebSocket adds `"type":"event"` first; SSE puts it on a `data:` line after `id: 42`.
 */
import type { LogEntry } from '../backbone/event-log.ts';

export class EncodedEvent {
  readonly entry: LogEntry;
  #eventJson: string | undefined;
  #sse: Map<string, Buffer> | undefined;
  #sseWithId: Map<string, Buffer> | undefined;
  #ws: Map<string, Buffer> | undefined;
  #wsFrames: Map<string, Buffer> | undefined;

  constructor(entry: LogEntry) {
    this.entry = entry;
  }

  get position(): number {
    return this.entry.position;
  }

  get eventJson(): string {
    return (this.#eventJson ??= JSON.stringify(this.entry.event));
  }

  /** Roughly the bytes a frame of this event takes (for buffer accounting). */
  get approximateBytes(): number {
    return this.eventJson.length + this.entry.topic.length + 96;
  }

  /** The SSE frame; `withId` decides whether it carries `id:` (see push-connection.ts). */
  sse(subscriptionIds: readonly string[], withId: boolean): Buffer {
    // One cache per variant, keyed by the id list alone: for the usual single id the key is
    // that id's own string, whose hash V8 keeps, so a lookup allocates nothing.
    const key = idsKey(subscriptionIds);
    const cache = withId ? (this.#sseWithId ??= new Map()) : (this.#sse ??= new Map());
    let frame = cache.get(key);
    if (!frame) {
      const id = withId ? `id: ${this.entry.position}\n` : '';
      frame = Buffer.from(`${id}data: ${this.#body('{', subscriptionIds)}\n\n`);
      cache.set(key, frame);
    }
    return frame;
  }

  /**
   * The complete WebSocket frame (header + payload, unmasked as a server sends it), built
   * once and written as is to every socket: no per-socket framing.
   */
  wsFrame(subscriptionIds: readonly string[]): Buffer {
    const key = idsKey(subscriptionIds);
    const cache = (this.#wsFrames ??= new Map());
    let frame = cache.get(key);
    if (!frame) {
      frame = frameText(this.ws(subscriptionIds));
      cache.set(key, frame);
    }
    return frame;
  }

  /** The WebSocket text message payload. */
  ws(subscriptionIds: readonly string[]): Buffer {
    const key = idsKey(subscriptionIds);
    const cache = (this.#ws ??= new Map());
    let frame = cache.get(key);
    if (!frame) {
      frame = Buffer.from(this.#body('{"type":"event",', subscriptionIds));
      cache.set(key, frame);
    }
    return frame;
  }

  #body(open: string, subscriptionIds: readonly string[]): string {
    const { position, topic } = this.entry;
    return `${open}"subscriptions":${JSON.stringify(subscriptionIds)},"position":${position},"topic":${JSON.stringify(topic)},"event":${this.eventJson}}`;
  }
}

/** Cache key of an id list (ids never contain ','); one id, the common case, needs no join. */
function idsKey(ids: readonly string[]): string {
  return ids.length === 1 ? ids[0]! : ids.join(',');
}

/** A final, unmasked text frame (RFC 6455 §5.2) around `payload`. */
export function frameText(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + text
  if (length < 126) frame[1] = length;
  else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}
