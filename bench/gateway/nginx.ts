// nginx in front of the bench's upstream (Debian's nginx, when installed): a keep-alive
// pool, HTTP/1.1, one worker like one Node process. Used by run.ts and, as a target, by the
// single-proxy tools (tail.ts: the latency a proxy at ~30 µs per request adds here).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PORTS } from './portico-setup.ts';

/** The nginx binary on PATH, or '' when it is not installed. */
export function nginxBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v nginx']).toString().trim();
  } catch {
    return '';
  }
}

/** Starts nginx (config and logs under `dataDir/nginx`) and waits until it answers. */
export async function startNginx(bin: string, dataDir: string): Promise<ChildProcess> {
  const prefix = join(dataDir, 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  # Node's servers keep a connection for any number of requests; nginx closes one after
  # 1,000 by default (the paced load does not reconnect, and autocannon would pay for it).
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  upstream up {
    server 127.0.0.1:${PORTS.upstream};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${PORTS.nginx};
    location /api/orders/v1/ {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://up/;
    }
    location = /ready { return 200 "ok"; }
  }
}
`,
  );
  const child = spawn(bin, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${PORTS.nginx}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`nginx did not start; see ${prefix}/logs/error.log`);
}

/** A process and its children (nginx's master and its worker), for their CPU time. */
export function withChildren(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...children.split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}
