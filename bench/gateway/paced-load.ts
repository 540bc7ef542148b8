// An open-loop load at a steady rate, for latency at a given load. autocannon's rate limit
// (overallRate) lets every connection send as fast as it can until its quota for the
// current second is spent, then idles until the next second: "half the max rate" is
// really full speed for half of each second, so its latencies are those of a saturated
// proxy. Here request i is due at start + i/rate (released by a 1 ms timer, so in bursts
// of rate/1000 at most), goes out on the first idle keep-alive connection, and its latency
// counts from when it was due: a request that waited for a connection (or for a stalled
// proxy) is charged for the wait, so stalls are not hidden (no coordinated omission).
// Responses must carry Content-Length (the bench's upstream and every proxy here do).
// Besides that latency (from due: what the targets are judged on), each request's latency
// from its release is reported (from the timer tick that found it due; still charged for
// waiting for a connection), and the release lag itself (release - due): the part of the
// figure that is the generator's own (its 1 ms timer, its event loop stalls), the same for
// every target.
import { connect, type Socket } from 'node:net';

export type PacedResult = {
  /** Requests sent, the settling ones included (for CPU per request over the whole load). */
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Milliseconds, from when each request was due to its response's last byte. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Milliseconds, from each request's release (the tick that found it due) to its answer. */
  released: { p50: number; p99: number; max: number };
  /** Milliseconds from due to release: the generator's own lag. */
  lag: { p50: number; p99: number; max: number };
  /**
   * Milliseconds from release to the request's write: time spent waiting for an idle
   * connection. Far above zero, the generator's pool (not the target) is the queue: a
   * target whose answers take t ms needs about rate × t / 1000 connections.
   */
  connectionWait: { p50: number; p99: number; max: number };
};

/**
 * Connections, by default. With 16, a proxy answering in ~2 ms at ~6.7k req/s keeps
 * 13 of them busy on average: a short hiccup then leaves requests waiting for a connection
 * (traced per request: 40-130 ms p99 that was all wait in the generator's pool, with every
 * answer itself under 20 ms). 64 keep the pool from being the queue, for every case alike.
 */
export const PACED_CONNECTIONS = 64;

type Conn = {
  socket: Socket;
  due: number;
  released: number;
  sent: number;
  /** The request's number: below the settling count, it is not recorded. */
  index: number;
  buffered: Buffer | undefined;
};
type Waiting = { index: number; due: number; released: number };

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

export async function pacedLoad(options: {
  url: string;
  headers?: Record<string, string>;
  rate: number;
  seconds: number;
  connections?: number;
  /**
   * Seconds at the same rate before the measured ones, not recorded: a target that was
   * idle (its peers' turn) needs a moment to reach its steady state (see docs/benchmarks.md).
   */
  settleSeconds?: number;
}): Promise<PacedResult> {
  const url = new URL(options.url);
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [k, v] of Object.entries(options.headers ?? {})) lines.push(`${k}: ${v}`);
  const request = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const settling = Math.round(options.rate * (options.settleSeconds ?? 0));
  const measured = Math.round(options.rate * options.seconds);
  const total = settling + measured;
  const latencies = new Float64Array(measured);
  const fromRelease = new Float64Array(measured);
  const lags = new Float64Array(measured);
  const connectionWaits = new Float64Array(measured);
  let done = 0;
  let recorded = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const idle: Conn[] = [];
  /** Due times of requests that found no idle connection, oldest first. */
  const waiting: Waiting[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const send = (conn: Conn, index: number, due: number, released: number) => {
    conn.index = index;
    conn.due = due;
    conn.released = released;
    conn.sent = performance.now();
    conn.socket.write(request);
  };
  const complete = (conn: Conn, status: number) => {
    done++;
    if (conn.index >= settling) {
      const now = performance.now();
      latencies[recorded] = now - conn.due;
      fromRelease[recorded] = now - conn.released;
      connectionWaits[recorded] = conn.sent - conn.released;
      lags[recorded++] = conn.released - conn.due;
      if (status >= 200 && status < 300) ok++;
      else non2xx++;
    }
    const next = waiting.shift();
    if (next !== undefined) send(conn, next.index, next.due, next.released);
    else idle.push(conn);
    if (done === total) finish();
  };
  const onData = (conn: Conn, chunk: Buffer) => {
    let data = conn.buffered ? Buffer.concat([conn.buffered, chunk]) : chunk;
    for (;;) {
      const end = data.indexOf(HEAD_END);
      if (end < 0) break;
      const head = data.toString('latin1', 0, end);
      const length = CONTENT_LENGTH.exec(head);
      if (!length) throw new Error(`paced load: a response without Content-Length: ${head}`);
      const size = end + 4 + Number(length[1]);
      if (data.length < size) break;
      complete(conn, Number(head.slice(9, 12)));
      data = data.subarray(size);
    }
    conn.buffered = data.length > 0 ? data : undefined;
  };

  const conns = await Promise.all(
    Array.from(
      { length: options.connections ?? PACED_CONNECTIONS },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = connect(Number(url.port), url.hostname, () => resolve(conn));
          const conn: Conn = {
            socket,
            due: 0,
            released: 0,
            sent: 0,
            index: 0,
            buffered: undefined,
          };
          socket.setNoDelay(true);
          socket.on('data', (chunk: Buffer) => onData(conn, chunk));
          socket.once('error', (error) => {
            errors++;
            reject(error);
          });
          // A server that closes a connection strands its request: say so, not just wait.
          socket.once('end', () => {
            if (done < total) console.error('paced load: the server closed a connection');
          });
        }),
    ),
  );
  idle.push(...conns);

  const start = performance.now();
  const interval = 1000 / options.rate;
  const tick = () => {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - start) / interval) + 1);
    for (; sent < due; sent++) {
      const at = start + sent * interval;
      const conn = idle.pop();
      if (conn) send(conn, sent, at, now);
      else waiting.push({ index: sent, due: at, released: now });
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
  // Whatever is still out a few seconds after the last request was due is an error.
  const deadline = setTimeout(finish, (total / options.rate) * 1000 + 5000);
  await finished;
  clearTimeout(deadline);
  for (const c of conns) c.socket.destroy();

  const quantiles = (values: Float64Array) => {
    const sorted = values.subarray(0, recorded).sort();
    return (q: number) =>
      recorded === 0
        ? NaN
        : Math.round(sorted[Math.min(recorded - 1, Math.floor(q * recorded))]! * 100) / 100;
  };
  const at = quantiles(latencies);
  const release = quantiles(fromRelease);
  const lag = quantiles(lags);
  const connectionWait = quantiles(connectionWaits);
  return {
    sent,
    ok,
    non2xx,
    errors: errors + (total - done),
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: at(1),
    released: { p50: release(0.5), p99: release(0.99), max: release(1) },
    lag: { p50: lag(0.5), p99: lag(0.99), max: lag(1) },
    connectionWait: {
      p50: connectionWait(0.5),
      p99: connectionWait(0.99),
      max: connectionWait(1),
    },
  };
}
