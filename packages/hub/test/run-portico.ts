import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/**
 * Runs the portico CLI to completion (the same Node), without the caller's PORTICO_*
 * variables, so a developer's environment cannot change what a test sees.
 */
export function runPortico(
  args: string[],
  /** `timeoutMs`: killed (SIGTERM) if still running then, as a hung command would be. */
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): SpawnSyncReturns<string> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('PORTICO_')),
  );
  return spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], {
    cwd: options.cwd,
    env: { ...clean, ...options.env },
    encoding: 'utf8',
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  });
}
