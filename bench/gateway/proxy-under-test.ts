// One proxy under load for the single-proxy tools (profile.ts, tail.ts): the raw upstream,
// then Portico (with the bench's policy), the @fastify/http-proxy peer or nginx in front of it.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startProcess, stopProcess } from '../lib/processes.ts';
import { cpuSecondsOfAll } from '../lib/proc-cpu.ts';
import { nginxBinary, startNginx, withChildren } from './nginx.ts';
import { definePorticoApi, PORTS, API_PATH, startPortico } from './portico-setup.ts';

export type ProxyUnderTest = {
  readonly upstream: string;
  readonly upstreamProcess: ChildProcess;
  readonly proxy: ChildProcess;
  /** What to load: the proxied URL and the headers it needs (a token for Portico). */
  readonly target: { url: string; headers: Record<string, string> };
  /** Stops both processes and removes the hub's data dir. */
  stop(): Promise<void>;
};

const here = (f: string) => new URL(f, import.meta.url).pathname;

export async function startProxyUnderTest(
  which: string,
  nodeFlags: string[],
  dataDir: string,
): Promise<ProxyUnderTest> {
  const upstream = `http://127.0.0.1:${PORTS.upstream}`;
  const up = await startProcess([here('./upstream.ts'), String(PORTS.upstream)], `${upstream}/`);
  let proxy: ChildProcess;
  let target: ProxyUnderTest['target'];
  if (which === 'fastify') {
    proxy = await startProcess(
      [...nodeFlags, here('./fastify-proxy.ts'), String(PORTS.fastify), upstream],
      `http://127.0.0.1:${PORTS.fastify}/ready`,
    );
    target = { url: `http://127.0.0.1:${PORTS.fastify}${API_PATH}`, headers: {} };
  } else if (which === 'nginx') {
    // Node flags do not apply; nginx's CPU is its master's and worker's (cpuSeconds).
    const bin = nginxBinary();
    if (!bin) throw new Error('nginx is not installed (apt-get install nginx)');
    proxy = await startNginx(bin, dataDir);
    target = { url: `http://127.0.0.1:${PORTS.nginx}${API_PATH}`, headers: {} };
  } else {
    proxy = await startPortico(dataDir, nodeFlags);
    target = await definePorticoApi(dataDir, upstream);
  }
  return {
    upstream,
    upstreamProcess: up,
    proxy,
    target,
    async stop() {
      // The upstream first: the hub does not exit while its idle keep-alive connections to
      // the upstream are open, i.e. for the upstream's 60 s keep-alive timeout after a load.
      await stopProcess(up);
      await stopProcess(proxy);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** CPU seconds of a child process and its children (nginx's worker) so far. */
export function cpuSeconds(child: ChildProcess): number {
  return cpuSecondsOfAll(withChildren(child.pid!));
}
