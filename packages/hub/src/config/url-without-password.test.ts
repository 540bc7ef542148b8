import { expect, it } from 'vitest';
import { urlWithoutPassword } from './url-without-password.ts';

it('hides the password of every URL in a text, and only that', () => {
  expect(urlWithoutPassword('postgres://portico:s3cret@db:5432/hub')).toBe(
    'postgres://portico:***@db:5432/hub',
  );
  expect(urlWithoutPassword('nats://u:pw@a:4222,nats://v:pw2@b:4222')).toBe(
    'nats://u:***@a:4222,nats://v:***@b:4222',
  );
  expect(urlWithoutPassword('postgres://portico@db/hub')).toBe('postgres://portico@db/hub');
  expect(urlWithoutPassword('not a url: x:y@z')).toBe('not a url: x:y@z');
});
