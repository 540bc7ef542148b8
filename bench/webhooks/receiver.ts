// bench/webhooks receiver: answers 204 at once on every path, except /slow* after 5 s.
// GET /count answers the requests seen per path. Usage: node receiver.ts PORT
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const counts = new Map<string, number>();

createServer((req, res) => {
  const path = req.url ?? '/';
  if (req.method === 'GET' && path === '/count') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(Object.fromEntries(counts)));
    return;
  }
  req.resume();
  req.on('end', () => {
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (path.startsWith('/slow')) setTimeout(() => res.writeHead(204).end(), 5000);
    else res.writeHead(204).end();
  });
}).listen(port, '127.0.0.1').keepAliveTimeout = 60_000;
