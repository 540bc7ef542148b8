/**
 * Thrown by `EventLog.ensureGroup` when creating a group would give its tenant more than
 * `maxGroupsPerTenant` groups (HTTP maps it to 409). Each group costs on every engine: a
 * lag count per metrics refresh, a durable consumer on JetStream.
 */
export class ConsumerGroupLimitError extends Error {
  readonly tenant: string;
  readonly limit: number;
  constructor(tenant: string, limit: number) {
    super(`tenant "${tenant}" already has ${limit} consumer groups (the limit)`);
    this.name = 'ConsumerGroupLimitError';
    this.tenant = tenant;
    this.limit = limit;
  }
}
