/**
 * Creates the event stream, or brings an existing one to the settings Portico owns
 * (subjects, dedupe window, retention limits), leaving anything else an operator set.
 * Several nodes may start at once: a lost creation race falls back to an update.
 */
import { nanos } from '@nats-io/transport-node';
import {
  DiscardPolicy,
  RetentionPolicy as JsRetention,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { RetentionPolicy } from '../event-log.ts';

export type StreamSettings = {
  name: string;
  subject: string;
  duplicateWindowMs: number;
  retention: RetentionPolicy;
};

/** The limits as JetStream wants them; the dedupe window may not exceed max age. */
export function limitsFor(
  duplicateWindowMs: number,
  retention: RetentionPolicy,
): Partial<StreamConfig> {
  const maxAgeMs = retention.maxAgeMs ?? 0;
  const window = maxAgeMs > 0 ? Math.min(duplicateWindowMs, maxAgeMs) : duplicateWindowMs;
  return {
    duplicate_window: nanos(window),
    max_age: nanos(maxAgeMs),
    max_bytes: retention.maxBytes !== undefined && retention.maxBytes > 0 ? retention.maxBytes : -1,
  };
}

export async function ensureStream(
  jsm: JetStreamManager,
  settings: StreamSettings,
): Promise<StreamInfo> {
  const wanted: Partial<StreamConfig> = {
    subjects: [settings.subject],
    allow_direct: true,
    ...limitsFor(settings.duplicateWindowMs, settings.retention),
  };
  const existing = await info(jsm, settings.name);
  if (existing) return update(jsm, existing, wanted);
  try {
    return await jsm.streams.add({
      name: settings.name,
      storage: StorageType.File,
      retention: JsRetention.Limits,
      discard: DiscardPolicy.Old,
      ...wanted,
    });
  } catch (error) {
    const raced = await info(jsm, settings.name);
    if (!raced) throw error;
    return update(jsm, raced, wanted);
  }
}

async function update(
  jsm: JetStreamManager,
  current: StreamInfo,
  wanted: Partial<StreamConfig>,
): Promise<StreamInfo> {
  const config = current.config as unknown as Record<string, unknown>;
  const same = Object.entries(wanted).every(
    ([key, value]) => JSON.stringify(config[key]) === JSON.stringify(value),
  );
  if (same) return current;
  return jsm.streams.update(current.config.name, { ...current.config, ...wanted });
}

async function info(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** JetStream's "stream not found" / "consumer not found" API errors. */
export function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    error instanceof Error &&
    (error.name === 'StreamNotFoundError' ||
      error.name === 'ConsumerNotFoundError' ||
      code === 10059 ||
      code === 10014 ||
      code === 404)
  );
}
