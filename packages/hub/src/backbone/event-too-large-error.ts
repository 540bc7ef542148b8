/**
 * An event the log will never store: serialised, it is larger than the log's limit (the
 * configured `events.maxEventBytes`, or on NATS what the server accepts in one message,
 * whichever is smaller). Appending it again cannot succeed, so a caller treats it as final
 * instead of retrying (the delivery engine sends such a copy to the DLQ as `too-large`).
 * The append that throws it stores nothing of its batch.
 */
export class EventTooLargeError extends Error {
  override name = 'EventTooLargeError';
  /** Position of the event in the appended batch. */
  readonly index: number;
  /** UTF-8 bytes of the serialised event. */
  readonly bytes: number;
  /** The most the log takes, in bytes. */
  readonly limit: number;
  /** Where the limit comes from, for people reading the error. */
  readonly limitSource: string;

  constructor(details: {
    index: number;
    id: string;
    bytes: number;
    limit: number;
    limitSource: string;
  }) {
    super(
      `event ${details.index} (${details.id}) is ${details.bytes} bytes; the event log takes at most ${details.limit} (${details.limitSource})`,
    );
    this.index = details.index;
    this.bytes = details.bytes;
    this.limit = details.limit;
    this.limitSource = details.limitSource;
  }
}

/**
 * The UTF-8 size of `text` when it is over `limit` bytes, else undefined. A UTF-16 code unit
 * is at most 3 UTF-8 bytes, so nearly every event is settled by one comparison and only a
 * large one is measured.
 */
export function utf8BytesOver(text: string, limit: number): number | undefined {
  if (text.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(text);
  return bytes > limit ? bytes : undefined;
}
