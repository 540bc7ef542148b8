import { describe, expect, it } from 'vitest';
import { compileTypePattern, eventTypeProblem, typePatternProblem } from './type-pattern.ts';

describe('bus type patterns', () => {
  it.each([
    ['incident.ticket.created', 'incident.ticket.created', true],
    ['incident.ticket.created', 'incident.ticket.closed', false],
    ['incident.*.created', 'incident.ticket.created', true],
    ['incident.*.created', 'incident.ticket.closed', false],
    ['*.*.*', 'billing.invoice.paid', true],
    ['*.*', 'billing.invoice.paid', false],
    ['incident.>', 'incident.ticket.created', true],
    ['incident.>', 'billing.invoice.paid', false],
    ['incident.ticket.>', 'incident.ticket.created', true],
    ['incident.ticket.created.>', 'incident.ticket.created', false],
    ['>', 'billing.invoice.paid', true],
  ])('%s matches %s: %s', (pattern, type, expected) => {
    expect(typePatternProblem(pattern)).toBeUndefined();
    expect(compileTypePattern(pattern)(type)).toBe(expected);
  });

  it('refuses malformed types and patterns, saying why', () => {
    expect(eventTypeProblem('incident.created')).toMatch(/three dot-separated segments/);
    expect(eventTypeProblem('Incident.ticket.created')).toMatch(/segment "Incident"/);
    expect(eventTypeProblem('incident.*.created')).toMatch(/segment "\*"/);
    expect(eventTypeProblem(42)).toBe('must be a string');
    expect(typePatternProblem('incident.>.created')).toMatch(/'>' may only be the last/);
    expect(typePatternProblem('')).toBe('must not be empty');
    expect(typePatternProblem('a..b')).toMatch(/segment ""/);
  });
});
