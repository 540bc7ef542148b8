/** Thrown by `EventLog.pull` for a group that does not exist (HTTP maps it to 404). */
export class ConsumerGroupNotFoundError extends Error {
  readonly group: string;
  constructor(group: string) {
    super(`consumer group "${group}" does not exist`);
    this.name = 'ConsumerGroupNotFoundError';
    this.group = group;
  }
}
