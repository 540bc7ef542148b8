import { describe, expect, it } from 'vitest';
import {
  compileTopicPattern,
  eventTypeProblem,
  topicForType,
  topicPatternProblem,
} from './topic.ts';

describe('event types and topics', () => {
  it('accepts domain.entity.action and builds the topic with the environment', () => {
    expect(eventTypeProblem('incident.ticket.created')).toBeUndefined();
    expect(topicForType('incident.ticket.created', 'prod')).toBe('incident.prod.ticket.created');
  });

  it.each(['incident.created', 'a.b.c.d', 'Incident.ticket.created', 'a..b', 'a.b c.d'])(
    'rejects %j',
    (type) => expect(eventTypeProblem(type)).toBeTypeOf('string'),
  );
});

describe('topic patterns', () => {
  it.each([
    ['incident.*.ticket.created', 'incident.dev.ticket.created', true],
    ['incident.*.ticket.created', 'incident.dev.ticket.closed', false],
    ['billing.>', 'billing.dev.invoice.paid', true],
    ['billing.>', 'billing', false],
    ['>', 'anything.at.all.here', true],
    ['a.b', 'a.b', true],
    ['a.*', 'a.b.c', false],
  ])('%s vs %s → %s', (pattern, topic, expected) => {
    expect(compileTopicPattern(pattern)(topic)).toBe(expected);
  });

  it('rejects a > that is not last, and bad segments', () => {
    expect(topicPatternProblem('a.>.b')).toMatch(/last/);
    expect(topicPatternProblem('A.b')).toMatch(/segment/);
    expect(topicPatternProblem('')).toMatch(/empty/);
  });
});
