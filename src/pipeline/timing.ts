/**
 * Stage timings, printed to stderr when CODEGEN_TIMINGS=1: where a run spends its time. Two lines:
 * wall-clock per stage, and CPU time (user + system) per stage — on a busy machine the second is
 * the one that still says where the work is. A third line gives the resident set and the JS heap in
 * use (MB) at the end of each stage: what a stage still holds when the next one starts.
 */
export interface StageTimer {
  lap(stage: string): void;
  report(): void;
}

export function stageTimer(): StageTimer {
  const enabled = process.env.CODEGEN_TIMINGS === '1';
  const laps: Array<[string, number, number, number, number]> = [];
  let last = performance.now();
  let lastCpu = enabled ? process.cpuUsage() : undefined;
  return {
    lap(stage) {
      if (!enabled) return;
      const now = performance.now();
      const cpu = process.cpuUsage(lastCpu);
      const memory = process.memoryUsage();
      laps.push([stage, now - last, (cpu.user + cpu.system) / 1000, memory.rss / 2 ** 20, memory.heapUsed / 2 ** 20]);
      last = now;
      lastCpu = process.cpuUsage();
    },
    report() {
      if (!enabled) return;
      const line = (title: string, at: 1 | 2, processMs: number) => {
        const total = laps.reduce((sum, lap) => sum + lap[at], 0);
        return `${title}: ${laps.map((lap) => `${lap[0]}=${lap[at].toFixed(1)}`).join(' ')} total=${total.toFixed(1)} process=${processMs.toFixed(0)}\n`;
      };
      const cpu = process.cpuUsage();
      const memory = laps.map((lap) => `${lap[0]}=${lap[3].toFixed(0)}/${lap[4].toFixed(0)}`).join(' ');
      const peak = process.resourceUsage().maxRSS / 1024;
      process.stderr.write(line('timings (ms)', 1, performance.now()) + line('cpu timings (ms)', 2, (cpu.user + cpu.system) / 1000) + `memory (rss/heap MB): ${memory} peak-rss=${peak.toFixed(0)}\n`);
    },
  };
}
