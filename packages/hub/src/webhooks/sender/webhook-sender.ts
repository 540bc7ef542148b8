/**
 * The `webhook` target kind: one attempt of one delivery to one endpoint.
 *
 * The request is a POST of the CloudEvent in structured JSON
 * (`content-type: application/cloudevents+json`; with an input transform, its output as
 * `application/json` or `text/plain`), signed per Standard Webhooks (`webhook-id`,
 * `webhook-timestamp`, `webhook-signature`), sent through the SSRF-guarded undici
 * dispatcher, which checks every connection's address after DNS and never follows a
 * redirect. How an answer is judged is in response-outcome.ts.
 */
import type { Delivery, DeliveryResult, DeliveryTarget } from '../../delivery/delivery-target.ts';
import { tenantOf } from '../../routing/rule.ts';
import { guardedRequest, type GuardedDispatcher } from '../ssrf/index.ts';
import type { Endpoint } from '../endpoints/endpoint.ts';
import type { EndpointCache } from './endpoint-cache.ts';
import { messageId } from './message-id.ts';
import { outcomeOfError, outcomeOfResponse } from './response-outcome.ts';

/** What the sender reports about an endpoint's health (see health/endpoint-health.ts). */
export type HealthReports = {
  succeeded(endpoint: Endpoint): Promise<void>;
  failed(endpoint: Endpoint, now: number): Promise<void>;
  /** The receiver answered 410 Gone. */
  gone(endpoint: Endpoint, now: number): Promise<void>;
};

export type WebhookSenderOptions = {
  endpoints: EndpointCache;
  dispatcher: GuardedDispatcher;
  health: HealthReports;
  requestTimeoutMs: number;
  /** How much of an answer is kept for the attempt log. */
  responseBytes?: number;
  userAgent?: string;
  clock?: () => number;
  logger: { error(obj: object, msg: string): void };
};

export class WebhookSender implements DeliveryTarget {
  readonly #o: WebhookSenderOptions;
  readonly #clock: () => number;

  constructor(options: WebhookSenderOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  async deliver(delivery: Delivery, signal: AbortSignal): Promise<DeliveryResult> {
    const now = this.#clock();
    const cached = await this.#o.endpoints.get(delivery.target.ref, now);
    const endpoint = cached?.endpoint;
    // A tenant's rule may only send to that tenant's endpoints; platform rules to any.
    const owner = tenantOf(delivery.owner);
    if (!cached || !endpoint || (owner !== undefined && owner !== endpoint.tenant))
      return {
        outcome: 'failed',
        error: `no webhook endpoint "${delivery.target.ref}" for this rule's owner`,
        reason: 'endpoint-not-found',
      };
    if (!endpoint.enabled)
      return {
        outcome: 'failed',
        error: `the endpoint is disabled (${endpoint.disabledReason ?? 'manual'}); recover its deliveries after enabling it`,
        reason: 'endpoint-disabled',
      };
    if (cached.bucket) {
      const waitMs = cached.bucket.take(now);
      if (waitMs > 0) return { outcome: 'deferred', delayMs: waitMs };
    }

    const { body, contentType } = encode(delivery);
    const headers = {
      ...cached.signer({
        msgId: messageId(delivery.event, endpoint.id),
        timestamp: Math.floor(now / 1000),
        body,
      }),
      'content-type': contentType,
      'user-agent': this.#o.userAgent ?? 'Portico-Webhooks/1',
      traceparent: delivery.event.traceparent,
    };

    let result: DeliveryResult;
    try {
      const response = await guardedRequest(
        endpoint.url,
        {
          method: 'POST',
          headers,
          body,
          timeoutMs: this.#o.requestTimeoutMs,
          maxBodyBytes: this.#o.responseBytes ?? 1024,
          signal,
        },
        this.#o.dispatcher,
      );
      result = outcomeOfResponse(response, this.#clock());
    } catch (error) {
      // The hub is stopping: let the engine give the delivery back untouched.
      if (signal.aborted) throw error;
      result = outcomeOfError(error, this.#o.requestTimeoutMs);
    }
    await this.#report(endpoint, result).catch((err: unknown) =>
      this.#o.logger.error(
        { err, endpoint: endpoint.id },
        'webhooks: recording endpoint health failed',
      ),
    );
    return result;
  }

  async #report(endpoint: Endpoint, result: DeliveryResult): Promise<void> {
    if (result.outcome === 'delivered') return this.#o.health.succeeded(endpoint);
    if (result.outcome === 'failed' && result.reason === 'http-410')
      return this.#o.health.gone(endpoint, this.#clock());
    return this.#o.health.failed(endpoint, this.#clock());
  }
}

/** The request body: the CloudEvent in structured JSON, or an input transform's output. */
function encode(delivery: Delivery): { body: string; contentType: string } {
  if (!delivery.transformed)
    return {
      // The stored text is JSON.stringify of the same event: no need to serialise it again.
      body: delivery.eventJson ?? JSON.stringify(delivery.event),
      contentType: 'application/cloudevents+json; charset=utf-8',
    };
  return typeof delivery.payload === 'string'
    ? { body: delivery.payload, contentType: 'text/plain; charset=utf-8' }
    : { body: JSON.stringify(delivery.payload), contentType: 'application/json' };
}
