import { describe, expect, it } from 'vitest';
import { createAddressGuard } from './address-guard.ts';
import { SsrfBlockedError } from './ssrf-blocked-error.ts';

describe('createAddressGuard', () => {
  it('refuses blocked addresses with a typed error naming the range', () => {
    const error = createAddressGuard().check('169.254.169.254');
    expect(error).toBeInstanceOf(SsrfBlockedError);
    expect(error).toMatchObject({
      code: 'ERR_SSRF_BLOCKED',
      address: '169.254.169.254',
      range: 'link-local 169.254.0.0/16',
      message: 'blocked by the SSRF policy: 169.254.169.254 is in link-local 169.254.0.0/16',
    });
    expect(createAddressGuard().check('8.8.8.8')).toBeUndefined();
  });

  it('lets the operator allow-list through, IPv4-mapped forms included, and nothing else', () => {
    const guard = createAddressGuard(['127.0.0.0/8', 'fd00::/8']);
    expect(guard.check('127.0.0.1')).toBeUndefined();
    expect(guard.check('::ffff:127.0.0.1')).toBeUndefined();
    expect(guard.check('fd00::2')).toBeUndefined();
    expect(guard.check('::1')).toBeInstanceOf(SsrfBlockedError);
    expect(guard.check('10.0.0.1')).toBeInstanceOf(SsrfBlockedError);
    expect(guard.check('64:ff9b::7f00:1')).toBeInstanceOf(SsrfBlockedError);
  });

  it('refuses a malformed allow-list at construction', () => {
    expect(() => createAddressGuard(['127.0.0.1'])).toThrow(/not a CIDR/);
    expect(() => createAddressGuard(['10.0.0.0/33'])).toThrow(/not a CIDR/);
  });
});
