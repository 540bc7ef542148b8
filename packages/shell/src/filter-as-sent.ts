import { ShellError } from './shell-error.ts';

/**
 * The filter as the hub will get it (JSON), taken now: one that cannot be sent (cyclic, a
 * BigInt, a throwing getter) is the caller's error, and a later change to the caller's object
 * cannot make the subscription's id and what the hub filters on disagree.
 */
export function filterAsSent(filter: unknown): unknown {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter))
    throw new ShellError('invalid', 'filter must be an object (an EventBridge content filter)');
  try {
    return JSON.parse(JSON.stringify(filter)) as unknown;
  } catch (error) {
    throw new ShellError('invalid', `filter cannot be sent to the hub as JSON: ${String(error)}`);
  }
}
