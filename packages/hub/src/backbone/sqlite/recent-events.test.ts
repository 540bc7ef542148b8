import { describe, expect, it } from 'vitest';
import type { CloudEventRecord } from '../event-log.ts';
import { createRecentEvents } from './recent-events.ts';

const event = (id: string) => ({ specversion: '1.0', id }) as unknown as CloudEventRecord;

describe('recent events', () => {
  it('hands out the appended object once, then parses of its text', () => {
    const recent = createRecentEvents({ maxEvents: 10, maxChars: 1000 });
    const e = event('a');
    recent.add(1, e, JSON.stringify(e));
    expect(recent.take(1)).toBe(e);
    const again = recent.take(1);
    expect(again).toEqual(e);
    expect(again).not.toBe(e);
    expect(recent.take(2)).toBeUndefined();
  });

  it('keeps a contiguous range, evicting the oldest by count and by size', () => {
    const recent = createRecentEvents({ maxEvents: 3, maxChars: 100 });
    expect(recent.range()).toBeUndefined();
    for (let p = 1; p <= 5; p++) recent.add(p, event(`e${p}`), JSON.stringify(event(`e${p}`)));
    expect(recent.range()).toEqual({ from: 3, to: 5 });
    expect(recent.take(2)).toBeUndefined();
    recent.add(6, event('big'), 'x'.repeat(90));
    expect(recent.range()).toEqual({ from: 6, to: 6 });
    recent.add(7, event('huge'), 'x'.repeat(200));
    expect(recent.range()).toBeUndefined();
  });
});
