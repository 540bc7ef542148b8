/**
 * The receiving side of the push benchmark, in its own process (forked by run.ts with IPC):
 * opens N connections to one server and counts what arrives. The publisher (run.ts) stamps
 * each event with the epoch time in sub-milliseconds (`now()`), a clock every process on
 * the machine shares. One connection in PROBE_EVERY parses each message for its latency;
 * the others only count, so the client's parsing cost does not drown the server's.
 */
import { connect as tcpConnect } from 'node:net';
import { now } from './clock.ts';
import { LightWs } from './light-ws.ts';

export type Target = {
  kind: 'portico-ws' | 'portico-sse' | 'socketio' | 'raw';
  port: number;
  token?: string;
};
const PROBE_EVERY = 10;
const CONNECT_CONCURRENCY = 256;
const TOPIC = 'bench.*.tick.created';
const DATA_MARKER = Buffer.from('\ndata: ');

let target: Target;
const closers: Array<() => void> = [];
let received = 0;
let lastReceiptAt = 0;
let minSeq = Infinity;
const latencies: number[] = [];

function count(): void {
  received++;
  lastReceiptAt = now();
}

function onMessage(probe: boolean, raw: () => { data: { t: number; seq: number } }): void {
  received++;
  lastReceiptAt = now();
  if (!probe) return;
  const { data } = raw();
  if (data.seq >= minSeq) latencies.push(lastReceiptAt - data.t);
}

async function connectOne(index: number): Promise<void> {
  const probe = index % PROBE_EVERY === 0;
  const { kind, port, token } = target;
  if (kind === 'portico-sse') {
    // A raw socket, like the light WebSocket client: the response head is read once, then
    // the body (no chunked framing: the stream ends with the connection) is scanned.
    await new Promise<void>((resolve, reject) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.write(
        `GET /v1/stream?topic=${TOPIC} HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
          `authorization: Bearer ${token}\r\naccept: text/event-stream\r\n\r\n`,
      );
      closers.push(() => socket.destroy());
      let head: Buffer | undefined = Buffer.alloc(0);
      let carry = '';
      let ready = false;
      let tail: Buffer = Buffer.alloc(0);
      const onBody = (chunk: Buffer): void => {
        if (!ready || probe) {
          // Set-up, and the probes: split into frames and read them.
          const frames = (carry + chunk.toString()).split('\n\n');
          carry = frames.pop()!;
          for (const frame of frames) {
            if (!ready) {
              if (frame.startsWith('event: ready')) {
                ready = true;
                resolve();
              }
            } else if (frame.startsWith('id:') || frame.startsWith('data:'))
              onMessage(probe, () => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)).event);
          }
          return;
        }
        // Everyone else: count event frames (each has one "\ndata: " or starts with it)
        // without decoding or copying the chunk; a marker split across two chunks is
        // found in the few bytes around the seam.
        if (tail.length > 0) {
          const seam = Buffer.concat([tail, chunk.subarray(0, DATA_MARKER.length - 1)]);
          if (seam.includes(DATA_MARKER)) count();
        }
        for (
          let at = chunk.indexOf(DATA_MARKER);
          at !== -1;
          at = chunk.indexOf(DATA_MARKER, at + 1)
        )
          count();
        tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - DATA_MARKER.length + 1)));
      };
      socket.on('data', (data: Buffer) => {
        if (head === undefined) return onBody(data);
        head = Buffer.concat([head, data]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.startsWith('HTTP/1.1 200')) return reject(new Error(`SSE: ${status}`));
        const rest = head.subarray(end + 4);
        head = undefined;
        if (rest.length > 0) onBody(rest);
      });
    });
    return;
  }
  // WebSocket servers: the light client (frame headers only, unless probing or setting up).
  let live = false;
  const path =
    kind === 'portico-ws'
      ? '/v1/ws'
      : kind === 'socketio'
        ? '/socket.io/?EIO=4&transport=websocket'
        : '/';
  let ws: LightWs;
  const ready = new Promise<void>((resolve) => {
    ws = new LightWs({
      port,
      path,
      headers: kind === 'portico-ws' ? { authorization: `Bearer ${token}` } : {},
      inspect: (length) => probe || !live || length <= 8,
      onSkipped: count,
      onText: (payload) => {
        const text = payload.toString();
        if (kind === 'socketio') {
          if (text === '2') return ws.sendText('3'); // engine.io heartbeat
          if (!live) {
            if (text.startsWith('0')) ws.sendText('40');
            else if (text.startsWith('40')) {
              live = true;
              resolve();
            }
            return;
          }
          return onMessage(
            probe,
            () => (JSON.parse(text.slice(2)) as [string, { data: { t: number; seq: number } }])[1],
          );
        }
        if (kind === 'portico-ws' && !live) {
          const message = JSON.parse(text) as { type: string };
          if (message.type === 'welcome')
            ws.sendText(JSON.stringify({ type: 'subscribe', id: 'ticks', topic: TOPIC }));
          if (message.type === 'subscribed') {
            live = true;
            resolve();
          }
          return;
        }
        onMessage(probe, () => (kind === 'portico-ws' ? JSON.parse(text).event : JSON.parse(text)));
      },
    });
  });
  closers.push(() => ws.close());
  await ws!.opened;
  if (kind === 'raw') live = true;
  else await ready;
}

async function connect(n: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await connectOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, worker));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until every expected message arrived, or nothing arrived for `stallMs`. */
async function settle(expected: number, stallMs = 3000): Promise<void> {
  let last = received;
  let quietSince = performance.now();
  while (received < expected) {
    await sleep(20);
    if (received !== last) {
      last = received;
      quietSince = performance.now();
    } else if (performance.now() - quietSince > stallMs) return;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export type Collected = {
  received: number;
  /** Epoch ms (high resolution) of the last message received. */
  lastReceiptAt: number;
  p50: number;
  p99: number;
  samples: number;
};

function reset(fromSeq: number): void {
  received = 0;
  latencies.length = 0;
  minSeq = fromSeq;
}

async function collect(expected: number): Promise<Collected> {
  await settle(expected);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    received,
    lastReceiptAt,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    samples: sorted.length,
  };
}

process.on('message', (message: { cmd: string } & Record<string, unknown>) => {
  const reply = (value: unknown) => process.send!(value);
  const fail = (error: unknown) => reply({ error: String((error as Error)?.stack ?? error) });
  if (message.cmd === 'connect') {
    target = message.target as Target;
    const n = message.n as number;
    connect(n).then(() => reply({ connected: n }), fail);
  } else if (message.cmd === 'reset') {
    reset(message.fromSeq as number);
    reply({ ok: true });
  } else if (message.cmd === 'collect') {
    collect(message.expected as number).then(reply, fail);
  } else if (message.cmd === 'stop') {
    for (const close of closers) close();
    setTimeout(() => process.exit(0), 200);
  }
});
process.send!({ ready: true });
