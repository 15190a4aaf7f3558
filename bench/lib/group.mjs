// Runs a group of tools on one input: one warm-up run of each, then `runs` rounds; in every round
// each tool runs once, in an order that rotates from round to round (A B C, B C A, C A B, ...), so
// drift of the machine (load, thermal, caches) hits all of them alike. Each run is a whole process.
//
// A tool: {
//   id, label, role: 'codegen' | 'peer',
//   prepare?(): untimed set-up before each run (e.g. empty the output folder),
//   command(): { cmd, args, env } — what is timed,
//   check(result, { warmup }): Promise<{ ok, note? }> — after each run, untimed; a run whose check
//     fails does not count (its figures are kept apart and the failure is reported),
//   display: the command as a reader would type it (for RESULTS.md).
// }
import { measure } from './measure.mjs';
import { summary } from './stats.mjs';

/** A group whose slowest warm-up run takes longer than this gets one timed round only (see README). */
export const SLOW_WARMUP_MS = 60_000;

export async function runGroup({ name, tools, runs, warmups = 1, timeoutMs, log, cwd }) {
  const ids = tools.map((t) => t.id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate) throw new Error(`internal: two tools of group ${name} share the id ${duplicate}`);
  const results = Object.fromEntries(tools.map((t) => [t.id, { id: t.id, label: t.label, role: t.role, display: t.display, samples: [], failures: [], notes: new Set() }]));
  const once = async (tool, round, warmup) => {
    if (tool.prepare) await tool.prepare();
    const command = tool.command();
    const result = await measure({ cmd: command.cmd, args: command.args, env: command.env, cwd: command.cwd ?? cwd, timeoutMs });
    let verdict;
    if (result.timedOut) verdict = { ok: false, note: `timed out after ${Math.round(timeoutMs / 1000)} s` };
    else {
      try {
        verdict = await tool.check(result, { warmup, round });
      } catch (error) {
        verdict = { ok: false, note: `check failed: ${error.message}` };
      }
    }
    const entry = results[tool.id];
    if (verdict.note) verdict.note = String(verdict.note).replace(/\s+/g, ' ').trim().slice(0, 500);
    if (verdict.note) entry.notes.add(verdict.note);
    if (verdict.extra) entry.extra = { ...(entry.extra ?? {}), ...verdict.extra };
    if (verdict.stages) (entry.stages ??= []).push(verdict.stages);
    const tag = warmup ? 'warm-up' : `run ${round + 1}/${runs}`;
    log(`  ${name} · ${tool.label} · ${tag}: ${Math.round(result.wall)} ms${result.rss ? `, ${Math.round(result.rss)} MB` : ''}${verdict.ok ? '' : `  ✖ ${verdict.note ?? 'check failed'}`}`);
    if (warmup) {
      (entry.warmups ??= []).push({ wall: result.wall, cpu: result.cpu, rss: result.rss, ok: verdict.ok });
      return;
    }
    const sample = { wall: result.wall, cpu: result.cpu, rss: result.rss, round };
    if (verdict.ok) entry.samples.push(sample);
    else entry.failures.push({ ...sample, note: verdict.note ?? 'check failed', code: result.code, stderr: result.stderr.slice(-1500) });
  };
  for (let w = 0; w < warmups; w++) for (const tool of tools) await once(tool, -1, true);
  // Keep the whole run bounded when a tool is very slow: one timed round after the warm-up.
  const slowest = Math.max(0, ...Object.values(results).flatMap((e) => (e.warmups ?? []).map((r) => r.wall)));
  const requested = runs;
  if (slowest > SLOW_WARMUP_MS && runs > 1) {
    runs = 1;
    log(`  ${name}: a warm-up run took ${Math.round(slowest / 1000)} s (over ${SLOW_WARMUP_MS / 1000} s): 1 timed round instead of ${requested}`);
  }
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < tools.length; k++) await once(tools[(k + round) % tools.length], round, false);
  }
  for (const entry of Object.values(results)) {
    entry.notes = [...entry.notes];
    entry.wall = summary(entry.samples.map((s) => s.wall));
    entry.cpu = summary(entry.samples.map((s) => s.cpu));
    entry.rss = summary(entry.samples.map((s) => s.rss));
    entry.valid = entry.samples.length > 0 && entry.failures.length === 0;
    // Figures of runs that failed their check: never counted, shown apart (hatched in the chart).
    entry.failedWall = summary(entry.failures.map((s) => s.wall));
    entry.failedRss = summary(entry.failures.map((s) => s.rss));
  }
  Object.defineProperty(results, '__rounds', { value: { requested, done: runs }, enumerable: false });
  return results;
}

/**
 * Ratios of a peer to codegen, pair by pair: in each round where both ran and passed their checks,
 * peer time / codegen time; summarised (median, min, max). Also the ratio of the medians, and of
 * the median peak memories (peer / codegen: above 1 means codegen uses less).
 */
export function pairRatio(codegen, peer) {
  const byRound = new Map(codegen.samples.map((s) => [s.round, s]));
  const perRound = peer.samples.filter((s) => byRound.has(s.round)).map((s) => s.wall / byRound.get(s.round).wall);
  const perRoundCpu = peer.samples.filter((s) => byRound.has(s.round) && s.cpu && byRound.get(s.round).cpu).map((s) => s.cpu / byRound.get(s.round).cpu);
  return {
    wall: summary(perRound),
    cpu: summary(perRoundCpu),
    ofMedians: codegen.wall && peer.wall ? peer.wall.median / codegen.wall.median : null,
    memory: codegen.rss && peer.rss ? peer.rss.median / codegen.rss.median : null,
  };
}
