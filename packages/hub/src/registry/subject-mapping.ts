/**
 * Which registered schema an event is validated against at publish.
 *
 * - By default the subject is the event `type` (`incident.ticket.created`), and the latest
 *   live version applies.
 * - `dataschema` may name a subject version of this registry instead:
 *   `…/v1/registry/subjects/<subject>/versions/<n>` (relative, or on any host: the path
 *   is what the hub stamps); `<n>` may be `latest`. It pins a version, or lets several
 *   types share one subject.
 * - Any other `dataschema` (a URL of the producer's own, another registry's) is left
 *   alone: the type decides.
 */
import type { VersionSpec } from './schema-registry.ts';

export type SubjectChoice = { subject: string; version: VersionSpec; from: 'type' | 'dataschema' };

const NAMED =
  /(?:^|\/)v1\/registry\/subjects\/([A-Za-z0-9][A-Za-z0-9._-]{0,99})\/versions\/([1-9][0-9]{0,9}|latest)$/;

export function subjectFor(event: { type: string; dataschema?: string }): SubjectChoice {
  const named = typeof event.dataschema === 'string' ? namedVersion(event.dataschema) : undefined;
  return named ?? { subject: event.type, version: 'latest', from: 'type' };
}

function namedVersion(dataschema: string): SubjectChoice | undefined {
  const match = NAMED.exec(dataschema);
  if (!match) return undefined;
  const version = match[2] === 'latest' ? 'latest' : Number(match[2]);
  return { subject: match[1]!, version, from: 'dataschema' };
}

/** The `dataschema` the hub stamps on an event validated against a subject version. */
export function dataschemaFor(subject: string, version: number): string {
  return `/v1/registry/subjects/${subject}/versions/${version}`;
}
