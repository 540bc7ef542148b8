/**
 * CPU time a process (or one of its threads) has used so far, from Linux /proc: user +
 * system, in clock ticks of 1/100 s. On this shared, noisy machine the CPU a case costs per
 * request is a steadier figure than requests per second.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100;

/** utime + stime of a `stat` file's text, in seconds (the fields after the `(comm)`). */
function statSeconds(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds of a process (its main thread alone with `mainThreadOnly`); NaN if it is gone. */
export function cpuSeconds(pid: number | undefined, mainThreadOnly = false): number {
  try {
    const path = mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
    return statSeconds(readFileSync(path, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of several processes (a server and its workers); exited ones count 0. */
export function cpuSecondsOfAll(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
}

/**
 * CPU seconds per thread name (the kernel's comm: 'main' for the event loop, each worker
 * thread, V8's GC and compiler helpers, libuv's pool), so a change can be seen moving work
 * between them. Worker threads share a name: they are numbered in start order (tids grow).
 * Empty where /proc is missing.
 */
export function cpuByThread(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  let workers = 0;
  for (const tid of tasks.sort((a, b) => Number(a) - Number(b))) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      let name =
        tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name === 'WorkerThread') name += `#${++workers}`;
      out.set(name, (out.get(name) ?? 0) + statSeconds(stat));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * Each thread's CPU seconds per item (request, event, delivery) since `before` (what
 * cpuByThread returned then), in cpuByThread's order.
 */
export function cpuPerItemSince(
  pid: number | undefined,
  before: Map<string, number>,
  items: number,
): [name: string, seconds: number][] {
  return [...cpuByThread(pid)].map(([name, s]) => [name, (s - (before.get(name) ?? 0)) / items]);
}

/** The whole machine's busy and total CPU seconds so far (all cores, from /proc/stat). */
export function machineCpu(): { busy: number; total: number } {
  // cpu  user nice system idle iowait irq softirq steal ...
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.split(/\s+/).slice(1);
  const ticks = fields.slice(0, 8).map(Number);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  const idle = ticks[3]! + ticks[4]!;
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}
