// The peer: Fastify with @fastify/http-proxy (undici) in front of the same upstream.
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const [port, upstream] = [Number(process.argv[2]), process.argv[3]!];
const app = Fastify({ logger: false });
await app.register(proxy, { upstream, prefix: '/api/orders/v1', rewritePrefix: '' });
app.get('/ready', async () => 'ok');
await app.listen({ port, host: '127.0.0.1' });
// Exit cleanly on SIGTERM, so a --cpu-prof profile is written (bench/gateway/profile.ts).
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
