/**
 * Reconnect delays: exponential with full jitter, shaped by the dictionary's client settings
 * (`backoff {initialMs, maxMs, multiplier, jitter}`) when the hub sends them.
 */
export type BackoffSettings = {
  initialMs?: number;
  maxMs?: number;
  multiplier?: number;
  jitter?: boolean;
};

export function backoffDelay(attempt: number, settings: BackoffSettings = {}): number {
  const initial = settings.initialMs ?? 250;
  const max = settings.maxMs ?? 15_000;
  const ceiling = Math.min(max, initial * (settings.multiplier ?? 2) ** attempt);
  return settings.jitter === false ? ceiling : Math.random() * ceiling;
}
