// The floor under case (b): servers that do a part of what a single-event publish does, and
// nothing else, so bench/ingest/floor.ts can show what each part costs by itself.
// Usage: node bench/ingest/floor-server.ts <variant> <port> [dataDir]
//   fastify-post      Fastify, POST of a CloudEvent parsed as JSON, answered 202 with JSON
//   http-post         the same on bare node:http (no framework)
//   fastify-durable   fastify-post + the hub's own embedded log appends the event (fsync'd
//                     group commit on its writer thread) before the 202
//   http-durable      http-post + the same append
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import Fastify from 'fastify';
import { openSqliteEventLog } from '../../packages/hub/src/backbone/sqlite/sqlite-event-log.ts';
import type { CloudEventRecord } from '../../packages/hub/src/backbone/event-log.ts';

const [variant, portText, dataDir] = process.argv.slice(2);
const port = Number(portText);
const durable = variant === 'fastify-durable' || variant === 'http-durable';
const log = durable ? openSqliteEventLog({ path: join(dataDir!, 'events.db') }) : undefined;

/** The part of ingest kept here: the append itself, with the fields the hub would stamp. */
async function accept(text: string): Promise<string> {
  const event = JSON.parse(text) as CloudEventRecord;
  if (!log) return JSON.stringify({ id: event.id });
  event.tenantid = 'bench';
  const [result] = await log.append([
    {
      tenant: 'bench',
      topic: 'bench.dev.order.placed',
      partitionKey: 'bench',
      dedupeKey: `bench\u0000${event.source}\u0000${event.id}`,
      event,
      body: JSON.stringify(event),
    },
  ]);
  return JSON.stringify({ id: event.id, position: result!.position });
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

if (variant!.startsWith('fastify')) {
  const app = Fastify({ logger: false });
  app.addContentTypeParser(
    'application/cloudevents+json',
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );
  app.get('/', async () => ({ hello: 'world' })); // the readiness probe
  app.post('/', async (request, reply) => {
    const answer = await accept(request.body as string);
    return reply.code(202).type('application/json').send(answer);
  });
  await app.listen({ port, host: '127.0.0.1' });
} else {
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}');
      return;
    }
    readText(req)
      .then(accept)
      .then(
        (answer) => {
          res.writeHead(202, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(answer),
          });
          res.end(answer);
        },
        () => {
          res.writeHead(400).end();
        },
      );
  });
  server.listen(port, '127.0.0.1');
}
process.on('SIGTERM', () => {
  void (log?.close() ?? Promise.resolve()).then(() => process.exit(0));
});
