/**
 * The servers of the push benchmark, one per child process (forked by run.ts with IPC):
 *
 *   portico   the hub (buildHub, embedded SQLite log): events go in through POST /v1/events,
 *             are appended durably, and fan out to WebSocket or SSE subscribers.
 *   socketio  socket.io 4 (websocket transport only, no compression): POST /publish,
 *             `io.emit` per event (socket.io pre-encodes a broadcast frame once).
 *   raw       the limit: `ws` accepts the sockets; POST /publish frames the request's
 *             messages once, into one Buffer, and writes that Buffer to every socket.
 *
 * Messages: {"cmd":"mem"} → {rss, heap} after a full GC. On start: {ready, port, token?}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server as SocketIoServer } from 'socket.io';
import * as wsModule from 'ws';
import { WebSocketServer } from 'ws';

// ws's ESM build exports its frame encoder (Sender) by name; @types/ws does not declare it.
type FrameOptions = {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
};
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};
import { buildHub } from '../../packages/hub/src/app.ts';
import { loadConfig } from '../../packages/hub/src/config/load-config.ts';

type Started = { port: number; token?: string; close(): Promise<void> };

const kind = process.argv[2];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () =>
      resolve((server.address() as { port: number }).port),
    ),
  );
}

async function startPortico(): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'portico-bench-push-'));
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: {
      dataDir,
      logLevel: 'silent',
      push: { maxConnectionsPerTenant: 100_000, maxSubscriptionsPerTenant: 100_000 },
    },
  });
  const hub = await buildHub(config);
  await hub.server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 });
  const port = (hub.server.server.address() as { port: number }).port;
  const token = await hub.devIssuer!.mint({
    tenant: 'bench',
    scopes: ['events:read', 'events:publish'],
    ttlSeconds: 3600,
  });
  return {
    port,
    token,
    close: async () => {
      await hub.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startSocketIo(): Promise<Started> {
  const http = createServer();
  const io = new SocketIoServer(http, {
    transports: ['websocket'],
    perMessageDeflate: false,
    serveClient: false,
  });
  http.on('request', (req, res) => {
    if (req.url !== '/publish') return;
    void readBody(req).then((body) => {
      for (const event of JSON.parse(body) as unknown[]) io.emit('event', event);
      res.writeHead(202).end();
    });
  });
  const port = await listen(http);
  return { port, close: () => new Promise((resolve) => io.close(() => resolve())) };
}

async function startRaw(): Promise<Started> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  http.on('request', (req, res) => {
    if (req.url !== '/publish') return;
    void readBody(req).then((body) => {
      // Every event of the request framed once, and the frames joined into one Buffer that
      // is written as is to each socket: one write per socket per request, as Portico's
      // corked dispatch of an append batch does.
      const frames = (JSON.parse(body) as unknown[]).flatMap((event) =>
        Sender.frame(Buffer.from(JSON.stringify(event)), {
          fin: true,
          opcode: 1,
          mask: false,
          readOnly: true,
          rsv1: false,
        }),
      );
      const buffer = Buffer.concat(frames);
      for (const client of wss.clients)
        (client as unknown as { _socket: import('node:net').Socket })._socket.write(buffer);
      res.writeHead(202).end();
    });
  });
  const port = await listen(http);
  return {
    port,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

const starters: Record<string, () => Promise<Started>> = {
  portico: startPortico,
  socketio: startSocketIo,
  raw: startRaw,
};
const start = starters[kind ?? ''];
if (!start) throw new Error(`unknown server kind ${kind}`);
const started = await start();

process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'mem') {
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.send!({ rss, heap: heapUsed });
  } else if (message.cmd === 'snapshot') {
    // Diagnostics only (not used by run.ts): where an idle connection's heap goes.
    void import('node:v8').then((v8) => process.send!({ file: v8.writeHeapSnapshot() }));
  } else if (message.cmd === 'stop') {
    void started.close().finally(() => process.exit(0));
  }
});
process.send!({ ready: true, port: started.port, token: started.token });
