/**
 * A hub node of a test cluster: `portico start --config <file>` as a child process on a
 * loopback port, on NATS + PostgreSQL. Every node of a cluster shares the development
 * signing key (copied into its own data dir), so a token works on any node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadOrCreateDevIssuer, type DevIssuer } from '../../src/auth/dev-issuer.ts';
import { DEV_KEY_FILE_NAME } from '../../src/auth/dev-key-file.ts';
import type { Scope } from '../../src/auth/principal.ts';
import { freePort } from './engines.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export type ClusterSettings = {
  natsUrl: string;
  stream: string;
  subjectPrefix: string;
  postgresUrl: string;
  /** Merged into every node's config file. */
  extra?: Record<string, unknown>;
};

export type ClusterNode = {
  name: string;
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
  /** SIGTERM, and wait for a clean exit (returns the exit code). */
  stop(): Promise<number | null>;
};

export class TestCluster {
  readonly settings: ClusterSettings;
  readonly dir = mkdtempSync(join(tmpdir(), 'portico-cluster-'));
  readonly nodes: ClusterNode[] = [];
  #issuer: DevIssuer | undefined;

  constructor(settings: ClusterSettings) {
    this.settings = settings;
  }

  async token(tenant: string, scopes: Scope[]): Promise<string> {
    this.#issuer ??= await loadOrCreateDevIssuer(join(this.dir, 'keys'), {
      audience: 'urn:portico',
    });
    return this.#issuer.mint({ tenant, scopes, ttlSeconds: 600 });
  }

  async headers(tenant: string, scopes: Scope[]): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.token(tenant, scopes)}` };
  }

  async startNode(name: string, port?: number): Promise<ClusterNode> {
    await this.token('warm-up', []); // creates the shared key before any node starts
    const dataDir = join(this.dir, name);
    mkdirSync(dataDir, { recursive: true });
    copyFileSync(join(this.dir, 'keys', DEV_KEY_FILE_NAME), join(dataDir, DEV_KEY_FILE_NAME));
    const { natsUrl, stream, subjectPrefix, postgresUrl, extra } = this.settings;
    const configFile = join(dataDir, 'portico.config.json');
    const nodePort = port ?? (await freePort());
    writeFileSync(
      configFile,
      JSON.stringify({
        host: '127.0.0.1',
        port: nodePort,
        dataDir,
        logLevel: 'warn',
        backbone: { kind: 'nats', url: natsUrl, stream, subjectPrefix },
        store: { kind: 'postgres', url: postgresUrl, poolSize: 4 },
        ...extra,
      }),
    );
    const node = await spawnNode(name, configFile, nodePort);
    this.nodes.push(node);
    return node;
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }
}

async function spawnNode(name: string, configFile: string, port: number): Promise<ClusterNode> {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', MAIN, 'start', '--config', configFile],
    {
      env: { ...process.env, PORTICO_NATS_URL: '', PORTICO_POSTGRES_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const exitedPromise = () =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve(child.exitCode)
      : new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`node ${name} exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 400) {
      child.kill('SIGKILL');
      throw new Error(`node ${name} did not become ready:\n${output}`);
    }
    await sleep(50);
  }
  return {
    name,
    url,
    child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exitedPromise();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exitedPromise();
    },
  };
}
