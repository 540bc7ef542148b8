/**
 * `portico.webhook.endpoint-disabled`: appended to the event log, in the endpoint's
 * tenant, when an endpoint is disabled automatically (410 Gone, or failing too long). It
 * is an event like any other: the tenant reads it (`GET /v1/events?topic=portico.>`,
 * consumer groups, push), and platform rules route it (tenant rules never see the
 * reserved `portico.` domain). The URL is not in it: its path or query may hold tokens.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CloudEventRecord, EventLog } from '../../backbone/event-log.ts';
import type { DisabledReason, Endpoint } from '../endpoints/endpoint.ts';

export const ENDPOINT_DISABLED_TYPE = 'portico.webhook.endpoint-disabled';

export class OperationalEvents {
  readonly #log: EventLog;
  readonly #env: string;

  constructor(log: EventLog, env: string) {
    this.#log = log;
    this.#env = env;
  }

  async endpointDisabled(endpoint: Endpoint, reason: DisabledReason, now: number): Promise<void> {
    const id = randomUUID();
    const time = new Date(now).toISOString();
    const event: CloudEventRecord = {
      specversion: '1.0',
      id,
      source: '/portico/webhooks',
      type: ENDPOINT_DISABLED_TYPE,
      subject: endpoint.id,
      time,
      tenantid: endpoint.tenant,
      correlationid: id,
      traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
      recordedtime: time,
      datacontenttype: 'application/json',
      data: {
        endpointId: endpoint.id,
        description: endpoint.description,
        reason,
        disabledAt: time,
        failingSince:
          endpoint.failingSince === null ? null : new Date(endpoint.failingSince).toISOString(),
      },
    };
    await this.#log.append([
      {
        tenant: endpoint.tenant,
        topic: `portico.${this.#env}.webhook.endpoint-disabled`,
        partitionKey: endpoint.tenant,
        dedupeKey: `portico-webhooks:disabled:${endpoint.id}:${now}`,
        event,
      },
    ]);
  }
}
