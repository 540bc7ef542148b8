/**
 * From the `routing` section of portico.config.json to createRouting's options: seconds
 * become milliseconds, and what the schema cannot say is checked here.
 */
import type { KindSettings } from '../delivery/target-registry.ts';
import type { RoutingConfig } from './config-schema.ts';
import type { RoutingOptions } from './routing.ts';

export function routingOptionsFrom(
  config: RoutingConfig,
): Pick<RoutingOptions, 'kinds' | 'limits' | 'retention'> {
  const kinds: Record<string, KindSettings> = {};
  for (const [kind, settings] of Object.entries(config.targets)) {
    const retry = settings.retry;
    if (
      retry?.delaysSeconds !== undefined &&
      (retry.baseDelaySeconds !== undefined || retry.maxDelaySeconds !== undefined)
    )
      throw new Error(
        `invalid configuration at "routing.targets.${kind}.retry": give either delaysSeconds or baseDelaySeconds/maxDelaySeconds, not both`,
      );
    kinds[kind] = {
      ...(retry ? { retry } : {}),
      ...(settings.timeoutSeconds !== undefined
        ? { timeoutMs: Math.round(settings.timeoutSeconds * 1000) }
        : {}),
      ...(settings.concurrency !== undefined ? { concurrency: settings.concurrency } : {}),
    };
  }
  return {
    kinds,
    limits: {
      maxRulesPerOwner: config.maxRulesPerOwner,
      maxTargetsPerRule: config.maxTargetsPerRule,
      maxPatternBytes: config.maxPatternBytes,
    },
    retention: {
      keepDeliveredMs: config.keepDeliveredSeconds * 1000,
      keepDeadMs: config.keepDeadSeconds * 1000,
    },
  };
}
