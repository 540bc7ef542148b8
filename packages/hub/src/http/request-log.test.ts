import { describe, expect, it } from 'vitest';
import { withoutTicket } from './request-log.ts';

describe('request log summary', () => {
  it('cuts a stream ticket out of the URL wherever it stands, and leaves the rest', () => {
    expect(withoutTicket('/v1/stream?ticket=SECRET123&from=1')).toBe(
      '/v1/stream?ticket=[redacted]&from=1',
    );
    expect(withoutTicket('/v1/ws?topic=a.%3E&ticket=abc')).toBe(
      '/v1/ws?topic=a.%3E&ticket=[redacted]',
    );
    expect(withoutTicket('/v1/events?topic=ticket=x')).toBe('/v1/events?topic=ticket=x');
    expect(withoutTicket('/v1/stream?myticket=keep')).toBe('/v1/stream?myticket=keep');
  });
});
