/** Stage timings, printed to stderr when CODEGEN_TIMINGS=1: where a run spends its time. */
export interface StageTimer {
  lap(stage: string): void;
  report(): void;
}

export function stageTimer(): StageTimer {
  const enabled = process.env.CODEGEN_TIMINGS === '1';
  const laps: Array<[string, number]> = [];
  let last = performance.now();
  return {
    lap(stage) {
      if (!enabled) return;
      const now = performance.now();
      laps.push([stage, now - last]);
      last = now;
    },
    report() {
      if (!enabled) return;
      const total = laps.reduce((sum, [, ms]) => sum + ms, 0);
      process.stderr.write(`timings (ms): ${laps.map(([s, ms]) => `${s}=${ms.toFixed(1)}`).join(' ')} total=${total.toFixed(1)} process=${performance.now().toFixed(0)}\n`);
    },
  };
}
