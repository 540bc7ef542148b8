import { describe, expect, it } from 'vitest';
import { ShellError } from '../shell-error.ts';
import { connectToShell } from './bridge-client.ts';
import { nonceInHash, srcWithNonce } from './bridge-nonce.ts';
import { isBridgeWindowMessage, isHello, parseClientMessage } from './bridge-protocol.ts';
import { normalizeOrigin } from './origin.ts';

describe('bridge origins', () => {
  it('normalizes origins and refuses wildcards, opaque origins and URLs with paths', () => {
    expect(normalizeOrigin('http://127.0.0.1:8081')).toBe('http://127.0.0.1:8081');
    expect(normalizeOrigin('HTTPS://Widget.Example:443')).toBe('https://widget.example');
    expect(normalizeOrigin('http://widget.localhost:5201/')).toBe('http://widget.localhost:5201');
    for (const bad of [
      '*',
      'null',
      'widget.example',
      'http://widget.example/app',
      'http://a.example?x=1',
    ])
      expect(() => normalizeOrigin(bad), bad).toThrow(ShellError);
  });

  it("connectToShell never says hello to '*'", async () => {
    await expect(connectToShell({ parentOrigin: '*' })).rejects.toMatchObject({ code: 'invalid' });
  });
});

describe('bridge messages', () => {
  it('recognizes only versioned hellos with a session', () => {
    const hello = { 'portico-bus-bridge': 1, kind: 'hello', session: 's1', nonce: 'n' };
    expect(isBridgeWindowMessage(hello) && isHello(hello)).toBe(true);
    const noSession = { 'portico-bus-bridge': 1, kind: 'hello', nonce: 'n' };
    expect(isHello(noSession)).toBe(false);
    expect(isHello({ 'portico-bus-bridge': 1, kind: 'hello', session: 's1' })).toBe(false);
    expect(isHello({ 'portico-bus-bridge': 2, kind: 'hello', session: 's1', nonce: 'n' })).toBe(
      false,
    );
    expect(isBridgeWindowMessage({ type: 'webpackOk' })).toBe(false);
    expect(isBridgeWindowMessage('portico-bus-bridge')).toBe(false);
  });

  it('parses what an iframe may send and says what is wrong with the rest', () => {
    expect(
      parseClientMessage({ kind: 'publish', type: 'a.b.c', data: { x: 1 }, extra: 1 }),
    ).toEqual({
      kind: 'publish',
      type: 'a.b.c',
      data: { x: 1 },
    });
    expect(parseClientMessage({ kind: 'subscribe', id: 3, pattern: 'a.>' })).toEqual({
      kind: 'subscribe',
      id: 3,
      pattern: 'a.>',
    });
    expect(parseClientMessage({ kind: 'unsubscribe', id: 3 })).toEqual({
      kind: 'unsubscribe',
      id: 3,
    });
    expect(parseClientMessage({ kind: 'publish', type: 'a.b.c', from: 7 })).toEqual({
      problem: 'publish: from must be a string',
    });
    expect(parseClientMessage({ kind: 'subscribe', id: 1.5, pattern: 'a.>' })).toHaveProperty(
      'problem',
    );
    expect(parseClientMessage({ kind: 'eval', code: '1' })).toEqual({
      problem: 'unknown bridge message kind "eval"',
    });
    expect(parseClientMessage(null)).toHaveProperty('problem');
    expect(parseClientMessage({ kind: 'bye' })).toEqual({ kind: 'bye' });
  });
});

describe('bridge nonce', () => {
  it("travels in the frame's fragment, beside the frame's own parameters", () => {
    const base = 'http://portal.example/shell.html';
    expect(srcWithNonce('http://w.example/w.html?x=1', base, 'n1')).toBe(
      'http://w.example/w.html?x=1#portico-bridge=n1',
    );
    const again = srcWithNonce('http://w.example/w.html#tab=2&portico-bridge=n1', base, 'n2');
    expect(again).toBe('http://w.example/w.html#tab=2&portico-bridge=n2');
    expect(nonceInHash(new URL(again).hash)).toBe('n2');
    expect(nonceInHash('#tab=2')).toBe('');
    expect(nonceInHash('')).toBe('');
  });
});
