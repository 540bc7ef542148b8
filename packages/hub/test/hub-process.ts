import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export type HubProcess = { child: ChildProcess; url: string; output: () => string };

/** Starts `portico start` as a child process (the same Node) and waits until it is ready. */
export async function spawnHub(options: {
  port: number;
  dataDir: string;
  env?: Record<string, string>;
  /** More `portico start` arguments, e.g. `['--config', file]`. */
  args?: string[];
}): Promise<HubProcess> {
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      MAIN,
      'start',
      '--port',
      String(options.port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      options.dataDir,
      ...(options.args ?? []),
    ],
    {
      env: { ...process.env, PORTICO_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${options.port}`;
  // Up to 40 s: on a loaded machine, loading the hub's modules alone can take 20 s.
  for (let i = 0; i < 800; i++) {
    if (child.exitCode !== null) throw new Error(`hub exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, url, output: () => output };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`hub did not become ready:\n${output}`);
}

export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
