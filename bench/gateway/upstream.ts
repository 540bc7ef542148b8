// The upstream every case ends at: raw node:http, a small JSON answer, keep-alive.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const body = JSON.stringify({ id: 'o-1', status: 'shipped', lines: [{ sku: 'A-1', qty: 2 }] });
const server = createServer((_req, res) => {
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1');
