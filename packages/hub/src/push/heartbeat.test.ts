/**
 * Keep-alives at the configured interval (push.heartbeatSeconds) and the SSE `retry:` hint
 * (push.retryMs), seen on the wire by real clients. Deadlines only keep a broken test from
 * hanging; nothing asserts how long a heartbeat took.
 */
import { waitFor } from '../testing/wait-for.ts';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ, startPushHub, type PushHub } from './push-test-kit.ts';

let h: PushHub;

beforeAll(async () => {
  h = await startPushHub({ push: { heartbeatSeconds: 1, retryMs: 1234 } });
});
afterAll(() => h.close());

describe('heartbeats and the retry hint', () => {
  it('SSE: starts with the configured retry: hint and sends comment lines while idle', async () => {
    const token = await h.token('hb-sse', READ);
    const socket = connect(Number(new URL(h.base).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.write(
      `GET /v1/stream?topic=a.> HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\n\r\n`,
    );
    await waitFor(() => text.includes('event: ready'), 'the stream to open');
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(body.startsWith('retry: 1234\n\n')).toBe(true);
    expect(body).toMatch(/"heartbeatSeconds":1/);
    // A comment line (":") is what EventSource ignores and proxies count as traffic.
    await waitFor(() => /\n:\n\n/.test(text.slice(text.indexOf('event: ready'))), 'a heartbeat');
    socket.destroy();
  });

  it('WebSocket: pings at the interval, and drops a peer that stops answering', async () => {
    const token = await h.token('hb-ws', READ);
    const answering = new WebSocket(`${h.wsBase}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    let pings = 0;
    answering.on('ping', () => pings++);
    await new Promise((resolve) => answering.once('open', resolve));

    // autoPong off: this peer's socket is open but nothing answers the hub's pings.
    const silent = new WebSocket(`${h.wsBase}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
      autoPong: false,
    });
    const silentClosed = new Promise<number>((resolve) =>
      silent.on('close', (code) => resolve(code)),
    );
    await new Promise((resolve) => silent.once('open', resolve));

    const before = await h.metric('portico_push_disconnects_total', {
      reason: 'heartbeat-timeout',
    });
    expect(await silentClosed).toBe(1006); // terminated: a close handshake would only wait
    expect(await h.metric('portico_push_disconnects_total', { reason: 'heartbeat-timeout' })).toBe(
      before + 1,
    );
    await waitFor(() => pings >= 2, 'two pings to the answering peer');
    expect(answering.readyState).toBe(WebSocket.OPEN);
    answering.close();
  });
});
