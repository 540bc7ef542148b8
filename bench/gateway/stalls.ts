// Preloaded into the proxy by bench/gateway/tail.ts (--import): records event-loop delay
// and GC pauses; on SIGUSR2 it writes what it saw since the last signal as one JSON line to
// stderr and starts over. It measures the loop the proxy's requests wait on.
import { monitorEventLoopDelay, PerformanceObserver, constants } from 'node:perf_hooks';

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
let gc: Record<string, { count: number; ms: number; maxMs: number }> = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = KINDS[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
    const g = (gc[kind] ??= { count: 0, ms: 0, maxMs: 0 });
    g.count++;
    g.ms += e.duration;
    g.maxMs = Math.max(g.maxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });

process.on('SIGUSR2', () => {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  process.stderr.write(
    `STALLS ${JSON.stringify({
      loopDelayMs: {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        p999: ms(loop.percentile(99.9)),
        max: ms(loop.max),
      },
      gc: Object.fromEntries(
        Object.entries(gc).map(([k, g]) => [
          k,
          { count: g.count, totalMs: Math.round(g.ms), maxMs: Math.round(g.maxMs * 10) / 10 },
        ]),
      ),
    })}\n`,
  );
  loop.reset();
  gc = {};
});
