import { describe, expect, it } from 'vitest';
import { validateTargetUrl } from './target-url.ts';

describe('validateTargetUrl', () => {
  it('accepts an https URL and returns it parsed', () => {
    const check = validateTargetUrl('https://hooks.example.com/in?x=1');
    expect(check.ok && check.url.href).toBe('https://hooks.example.com/in?x=1');
  });

  it.each([
    'ftp://example.com/x',
    'file:///etc/passwd',
    'gopher://example.com/',
    'javascript:alert(1)',
    'data:,x',
  ])('refuses the scheme of %s', (url) => {
    expect(validateTargetUrl(url, { allowHttp: true })).toMatchObject({
      ok: false,
      reason: /scheme/,
    });
  });

  it('refuses plain http unless the operator allows it', () => {
    expect(validateTargetUrl('http://example.com/')).toMatchObject({ ok: false, reason: /http:/ });
    expect(validateTargetUrl('http://example.com/', { allowHttp: true }).ok).toBe(true);
  });

  it.each([
    'http://user:pass@example.com/',
    'https://user@example.com/',
    'https://:pw@example.com/',
  ])('refuses credentials in %s', (url) => {
    expect(validateTargetUrl(url, { allowHttp: true })).toMatchObject({
      ok: false,
      reason: /credentials/,
    });
  });

  it.each(['', 'not a url', 'https://', 'https://exa mple.com/'])(
    'refuses the unparsable %j',
    (url) => {
      expect(validateTargetUrl(url)).toMatchObject({ ok: false });
    },
  );

  it.each([
    ['https://127.0.0.1/', 'loopback'],
    ['https://[::1]:8443/', 'loopback ::1/128'],
    ['https://[::ffff:127.0.0.1]/', 'ipv4-mapped'],
    ['https://2130706433/', 'loopback'], // the URL parser normalises it to 127.0.0.1
    ['https://0x7f.1/', 'loopback'],
    ['https://169.254.169.254/latest/meta-data/', 'link-local'],
    ['https://[64:ff9b::a00:1]/', 'nat64'],
  ])('refuses the literal address in %s right away', (url, range) => {
    const check = validateTargetUrl(url);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toContain(range);
  });

  it('never quotes the URL (its query may hold a token) in the reason', () => {
    const check = validateTargetUrl('http://10.0.0.1/hook?token=s3cr3t');
    expect(!check.ok && check.reason).not.toContain('s3cr3t');
    const creds = validateTargetUrl('https://admin:hunter2@example.com/', { allowHttp: true });
    expect(!creds.ok && creds.reason).not.toContain('hunter2');
  });

  it('lets allow-listed literal addresses through', () => {
    expect(
      validateTargetUrl('http://127.0.0.1:8080/', { allowHttp: true, allowCidrs: ['127.0.0.0/8'] })
        .ok,
    ).toBe(true);
  });

  it('does not resolve names: they are checked at connect time', () => {
    expect(validateTargetUrl('https://localhost/').ok).toBe(true);
  });
});

describe('ports', () => {
  it.each([
    'https://hooks.example.com:0/in',
    'https://hooks.example.com:000/in',
    'https://[2001:db8::1]:0/',
  ])('refuses port 0 in %s (nothing can listen there)', (url) => {
    expect(validateTargetUrl(url)).toMatchObject({ ok: false, reason: /port 0/ });
  });

  it('accepts any other port up to 65535, and the parser refuses 65536', () => {
    expect(validateTargetUrl('https://hooks.example.com:1/').ok).toBe(true);
    expect(validateTargetUrl('https://hooks.example.com:65535/').ok).toBe(true);
    expect(validateTargetUrl('https://hooks.example.com:65536/')).toMatchObject({ ok: false });
  });
});
