/** One line a developer can act on: which type, which micro-frontend, which pointers. */
import type { ContractViolation } from '../types.ts';

export function describeViolation(v: ContractViolation): string {
  const sender =
    v.from === undefined ? 'an unnamed micro-frontend (publish with { from })' : `"${v.from}"`;
  const errors = v.errors
    .map((e) => (e.pointer ? `${e.pointer}: ${e.detail}` : e.detail))
    .join('; ');
  return `contract violation: ${v.type} sent by ${sender}: ${errors}`;
}
