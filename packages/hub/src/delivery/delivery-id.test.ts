import { describe, expect, it } from 'vitest';
import { newDeliveryId } from './delivery-id.ts';

describe('newDeliveryId', () => {
  it('is a version 7 UUID that carries its millisecond and sorts by it', () => {
    const at = Date.UTC(2026, 10, 23, 12, 0, 0, 5);
    const id = newDeliveryId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at);
    expect(newDeliveryId(at + 1) > newDeliveryId(at)).toBe(true);
    expect(newDeliveryId(at + 1000) > id).toBe(true);
  });

  it('differs within one millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newDeliveryId(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });
});
