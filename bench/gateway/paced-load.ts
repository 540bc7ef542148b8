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
};

type Conn = { socket: Socket; due: number; released: number; buffered: Buffer | undefined };
type Waiting = { due: number; released: number };

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;

export async function pacedLoad(options: {
  url: string;
  headers?: Record<string, string>;
  rate: number;
  seconds: number;
  connections?: number;
}): Promise<PacedResult> {
  const url = new URL(options.url);
  const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`];
  for (const [k, v] of Object.entries(options.headers ?? {})) lines.push(`${k}: ${v}`);
  const request = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const total = Math.round(options.rate * options.seconds);
  const latencies = new Float64Array(total);
  const fromRelease = new Float64Array(total);
  const lags = new Float64Array(total);
  let done = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const idle: Conn[] = [];
  /** Due times of requests that found no idle connection, oldest first. */
  const waiting: Waiting[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const send = (conn: Conn, due: number, released: number) => {
    conn.due = due;
    conn.released = released;
    conn.socket.write(request);
  };
  const complete = (conn: Conn, status: number) => {
    const now = performance.now();
    latencies[done] = now - conn.due;
    fromRelease[done] = now - conn.released;
    lags[done++] = conn.released - conn.due;
    if (status >= 200 && status < 300) ok++;
    else non2xx++;
    const next = waiting.shift();
    if (next !== undefined) send(conn, next.due, next.released);
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
      { length: options.connections ?? 16 },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = connect(Number(url.port), url.hostname, () => resolve(conn));
          const conn: Conn = { socket, due: 0, released: 0, buffered: undefined };
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
      if (conn) send(conn, at, now);
      else waiting.push({ due: at, released: now });
    }
    if (sent < total) setTimeout(tick, 1);
  };
  tick();
  // Whatever is still out a few seconds after the last request was due is an error.
  const deadline = setTimeout(finish, options.seconds * 1000 + 5000);
  await finished;
  clearTimeout(deadline);
  for (const c of conns) c.socket.destroy();

  const quantiles = (values: Float64Array) => {
    const sorted = values.subarray(0, done).sort();
    return (q: number) =>
      done === 0 ? NaN : Math.round(sorted[Math.min(done - 1, Math.floor(q * done))]! * 100) / 100;
  };
  const at = quantiles(latencies);
  const release = quantiles(fromRelease);
  const lag = quantiles(lags);
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
  };
}
