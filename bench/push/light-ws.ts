/**
 * A deliberately minimal WebSocket client for the benchmark's receiving side: it reads
 * frame headers and skips payloads, so thousands of sockets cost the client process little
 * and the figures describe the server. Payloads are handed over only when asked (`inspect`
 * returns true for the frame's length, or the connection is a latency probe).
 *
 * Client frames are masked with an all-zero key (valid per RFC 6455, and free).
 */
import { connect, type Socket } from 'node:net';

export type LightWsOptions = {
  port: number;
  path: string;
  headers?: Record<string, string>;
  /** Whether to collect and deliver the payload of a text frame of this length. */
  inspect: (length: number) => boolean;
  onText: (payload: Buffer) => void;
  /** Called for every text frame whose payload was skipped. */
  onSkipped: (length: number) => void;
};

export class LightWs {
  readonly socket: Socket;
  readonly #options: LightWsOptions;
  #handshake = Buffer.alloc(0);
  #open = false;
  // Frame parser state.
  #header = Buffer.alloc(0);
  #remaining = 0;
  #opcode = 0;
  #collect: Buffer[] | undefined;
  #length = 0;
  readonly opened: Promise<void>;

  constructor(options: LightWsOptions) {
    this.#options = options;
    this.socket = connect(options.port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.once('connect', () => {
        const headers = Object.entries(options.headers ?? {})
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('');
        this.socket.write(
          `GET ${options.path} HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\n` +
            `sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n${headers}\r\n`,
        );
      });
      this.socket.on('data', (chunk: Buffer) => {
        if (this.#open) return this.#frames(chunk);
        this.#handshake = Buffer.concat([this.#handshake, chunk]);
        const end = this.#handshake.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = this.#handshake.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head.split('\r\n')[0]));
        this.#open = true;
        resolve();
        const rest = this.#handshake.subarray(end + 4);
        if (rest.length > 0) this.#frames(rest);
      });
    });
  }

  sendText(text: string): void {
    const payload = Buffer.from(text);
    this.socket.write(Buffer.concat([frameHeader(0x1, payload.length), payload]));
  }

  close(): void {
    this.socket.destroy();
  }

  #frames(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining === 0 && this.#collect === undefined) {
        // Reading a header: 2 bytes, plus 2 or 8 for the extended length.
        const needed = headerLength(this.#header, chunk, offset);
        const available = this.#header.length + (chunk.length - offset);
        if (needed === undefined || available < needed) {
          this.#header = Buffer.concat([this.#header, chunk.subarray(offset)]);
          return;
        }
        const take = needed - this.#header.length;
        const header = Buffer.concat([this.#header, chunk.subarray(offset, offset + take)]);
        offset += take;
        this.#header = Buffer.alloc(0);
        this.#opcode = header[0]! & 0x0f;
        const short = header[1]! & 0x7f;
        this.#length =
          short === 126
            ? header.readUInt16BE(2)
            : short === 127
              ? Number(header.readBigUInt64BE(2))
              : short;
        this.#remaining = this.#length;
        const wanted = this.#opcode !== 0x1 || this.#options.inspect(this.#length);
        this.#collect = wanted ? [] : undefined;
        if (this.#length === 0) this.#finish();
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - offset);
      this.#collect?.push(chunk.subarray(offset, offset + take));
      offset += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#finish();
    }
  }

  #finish(): void {
    const payload = this.#collect ? Buffer.concat(this.#collect) : undefined;
    this.#collect = undefined;
    if (this.#opcode === 0x9)
      this.socket.write(Buffer.concat([frameHeader(0xa, payload!.length), payload!]));
    else if (this.#opcode === 0x1) {
      if (payload) this.#options.onText(payload);
      else this.#options.onSkipped(this.#length);
    }
  }
}

function headerLength(pending: Buffer, chunk: Buffer, offset: number): number | undefined {
  const second =
    pending.length >= 2 ? pending[1] : pending.length === 1 ? chunk[offset] : chunk[offset + 1];
  if (second === undefined) return undefined;
  const short = second & 0x7f;
  return short === 126 ? 4 : short === 127 ? 10 : 2;
}

/** A final, masked (zero key) client frame header. */
function frameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, 0x80 | length, 0, 0, 0, 0]);
  const header = Buffer.alloc(8);
  header[0] = 0x80 | opcode;
  header[1] = 0x80 | 126;
  header.writeUInt16BE(length, 2);
  return header;
}
