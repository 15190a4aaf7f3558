// Writes bench/RESULTS.md from the figures of one run, judges the targets of the issues, and
// prepares the chart's panels. Everything here is derived from `results` (also saved as
// .cache/bench/results.json); nothing is typed in by hand except the optional closing note,
// bench/NOTES.md, which is appended when it exists.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMb, formatMs, formatRatio, spread } from './stats.mjs';

const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Free text for a table cell: one line, no column separators. */
const cell = (text) => {
  const line = String(text ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
};
const find = (results, section, name) => results.groups.find((g) => g.section === section && g.name === name);
const entry = (group, id) => group?.entries[id];
const okEntry = (e) => e && e.samples.length > 0;
const invalid = (e) => e && (e.failures.length > 0 || e.samples.length === 0);
const loadText = (load) => (load ? load.map((v) => v.toFixed(2)).join(' / ') : '–');
let CORES = 1;
/** The load average, with a warning sign when the machine was busier than its cores. */
const loadNote = (load) => (load ? `load ${loadText(load)}${load[0] > CORES * 0.75 ? ' ⚠ loaded' : ''}` : '');
const rate = (v) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : `${Math.round(v)}`);
const ns = (v) => (Number.isFinite(v) ? (v >= 1000 ? `${(v / 1000).toFixed(2)} µs` : `${Math.round(v)} ns`) : '–');

function verdictMark(v) {
  return { met: '✅ met', missed: '❌ missed', void: '⛔ void (output check failed)', 'not measured': '– not measured' }[v] ?? v;
}

/** The output check of codegen's output for an input, as one phrase. */
function checkText(group, e) {
  if (!e) return '–';
  const parts = [];
  if (e.notes.length) parts.push(...e.notes);
  if (e.failures.length) parts.push(`${e.failures.length} run(s) failed their check and do not count`);
  if (e.extra?.files) parts.push(`${e.extra.files} files`);
  return cell(parts.join('; ') || 'ok');
}

function timeCell(e, key = 'wall') {
  if (!e) return '–';
  if (!e[key]) {
    if (!e.failures.length) return '–';
    const failed = key === 'wall' ? e.failedWall : null;
    return `✖ not counted${failed ? ` (failed runs: ${spread(failed, formatMs)})` : ''}`;
  }
  return spread(e[key], formatMs);
}

// --- targets -------------------------------------------------------------------------------------------

function judgeTargets(results) {
  const targets = [];
  const add = (issue, text, measured, verdict, note = '') => targets.push({ issue, text, measured, verdict, note });
  const codegenValid = (group) => {
    const e = entry(group, 'codegen-cold');
    return e && !invalid(e);
  };
  const gen = (name) => find(results, 'generate', name);
  const absolute = (group, id, limitMs, issue, text, memoryLimit) => {
    const e = entry(group, id);
    if (!group || !e) return add(issue, text, '–', 'not measured');
    if (!okEntry(e)) return add(issue, text, `✖ ${e.failures[0]?.note ?? 'no valid run'}`, 'void');
    let verdict = e.wall.median <= limitMs ? 'met' : 'missed';
    let measured = `${formatMs(e.wall.median)} wall (CPU ${formatMs(e.cpu?.median)})`;
    if (memoryLimit) {
      measured += `, ${formatMb(e.rss?.median)} peak`;
      if (e.rss && e.rss.median > memoryLimit) verdict = 'missed';
    }
    if (invalid(e)) verdict = 'void';
    add(issue, text, measured, verdict, loadNote(group.load.before));
  };
  const ratioTarget = (group, key, min, issue, text, { memory = false } = {}) => {
    const r = group?.ratios[key];
    if (!group || !r || !r.wall) return add(issue, text, '–', 'not measured');
    const [peerId, baseId] = key.split('/');
    const base = entry(group, baseId);
    const peer = entry(group, peerId);
    let verdict = r.wall.median >= min ? 'met' : 'missed';
    let measured = `${formatRatio(r.wall.median)} (per round ${formatRatio(r.wall.min)}–${formatRatio(r.wall.max)}; CPU ${formatRatio(r.cpu?.median)})`;
    if (memory) {
      measured += `; memory ${formatMb(base.rss?.median)} vs ${formatMb(peer.rss?.median)}`;
      if (!(r.memory > 1)) verdict = 'missed';
    }
    if (invalid(base)) verdict = 'void';
    add(issue, text, measured, verdict, loadNote(group.load.before));
  };

  absolute(gen('streetlights'), 'codegen-cold', 250, '#2', '`generate` Streetlights, cold: under 250 ms');
  for (const [id, what] of [['codegen-first', 'first run (empty cache)'], ['codegen-warm', 'warm cache']]) {
    const g = gen('streetlights');
    const e = entry(g, id);
    if (e && okEntry(e)) add('#2', `\`generate\` Streetlights, ${what}: under 250 ms (for reference; the target above is judged cold)`, `${formatMs(e.wall.median)} wall (CPU ${formatMs(e.cpu?.median)})`, invalid(e) ? 'void' : e.wall.median <= 250 ? 'met' : 'missed', loadNote(g.load.before));
  }
  ratioTarget(gen('streetlights'), 'parser/codegen-cold', 6, '#2', '`generate` Streetlights 6–10× faster than the parser alone (≥ 6×)');
  absolute(find(results, 'validate', 'streetlights'), 'codegen-validate-parser', 1000, '#2', '`validate` Streetlights, the parser run every time (--no-cache): under 1 s');
  absolute(find(results, 'validate', 'streetlights'), 'codegen-validate-parser-remembered', 1000, '#2', '`validate` Streetlights, the verdict remembered (every run after the first on the same bytes): under 1 s');
  absolute(gen('synthetic-500'), 'codegen-cold', 1500, '#2', '`generate` 500 channels, cold: under 1.5 s and 200 MB', 200);
  absolute(find(results, 'everyday', 'startup and --check'), 'codegen-version', 100, '#2', '`codegen --version`: under 100 ms');
  absolute(find(results, 'diff', 'streetlights'), 'codegen-diff', 250, '#6', '`diff` Streetlights pair: under 250 ms');
  absolute(find(results, 'diff', 'synthetic-500'), 'codegen-diff', 1000, '#6', '`diff` 500-channel pair: under 1 s');
  ratioTarget(gen('streetlights'), 'modelina/codegen-cold', 8, '#8', '`generate` ≥ 8× faster than Modelina on Streetlights');
  ratioTarget(gen('streetlights'), 'generator/codegen-cold', 8, '#8', '`generate` ≥ 8× faster than the generator (Node.js template) on Streetlights');
  ratioTarget(gen('synthetic-500'), 'modelina/codegen-cold', 20, '#8', '`generate` ≥ 20× faster than Modelina on 500 channels, at lower peak memory', { memory: true });
  ratioTarget(find(results, 'diff', 'streetlights'), 'asyncapi-cli-diff/codegen-diff', 5, '#8', '`diff` ≥ 5× faster than `asyncapi diff`, Streetlights pair');
  ratioTarget(find(results, 'diff', 'synthetic-500'), 'asyncapi-cli-diff/codegen-diff', 5, '#8', '`diff` ≥ 5× faster than `asyncapi diff`, 500-channel pair');

  const brokers = results.brokers?.results ?? [];
  for (const name of ['rabbitmq', 'kafka', 'nats', 'mqtt']) {
    const b = brokers.find((x) => x.broker === name);
    if (!b || b.status !== 'measured') {
      add('#8', `run-time ${name}: generated ≥ 0.9 of the plain client's events/s`, b ? `${b.status}: ${b.reason}` : results.brokers?.skipped ? `skipped (${results.brokers.skipped})` : '–', 'not measured');
      continue;
    }
    for (const [mode, m] of Object.entries(b.modes)) {
      const r = m.perRound?.median ?? m.ratio;
      add('#8', `run-time ${name}${mode === 'default' ? '' : ` (${mode})`}: generated ≥ 0.9 of the plain client's events/s`, `${formatRatio(r)} per round (ratio of medians ${formatRatio(m.ratio)}: ${rate(m.generated?.median)} vs ${rate(m.plain?.median)} events/s)`, r >= 0.9 ? 'met' : 'missed', loadNote(results.brokers.load.before));
    }
  }
  const rt = results.runtime;
  if (rt?.validators) {
    const r = rt.validators.generated.median / rt.validators.ajv.median;
    add('#8', 'generated validators ≥ 0.95 of ajv compiled at run time', `${formatRatio(r)} (${rate(rt.validators.generated.median)} vs ${rate(rt.validators.ajv.median)} validations per CPU-second)`, rt.validators.disagreements > 0 ? 'void' : r >= 0.95 ? 'met' : 'missed', rt.validators.disagreements > 0 ? `${rt.validators.disagreements} verdicts differ` : loadNote(rt.load.before));
  } else add('#8', 'generated validators ≥ 0.95 of ajv compiled at run time', rt?.error ?? '–', 'not measured');

  const growth = results.growth ?? [];
  for (const kind of ['generate', 'diff']) {
    const text = `growth: \`${kind}\` time per channel flat (within 1.5×) from 50 to 2,000 channels (marginal cost per channel; falling is fine)`;
    const all = growth.filter((row) => row[kind]);
    const failed = all.filter((row) => !row[kind].wall);
    if (failed.length > 0) {
      const row = failed[0];
      add('#8', text, `${row.channels} channels: ${row[kind].failures[0]?.note ?? 'no valid run'}${row[kind].failedWall ? ` (failed runs: ${formatMs(row[kind].failedWall.median)}, ${formatMb(row[kind].failedRss?.median)})` : ''}`, 'void', loadNote(results.groups.find((g) => g.section === 'growth' && g.name === `${row.channels} channels`)?.load.before));
      continue;
    }
    if (all.length < 3 || all.at(-1).channels < 2000) {
      add('#8', text, all.length ? `measured up to ${all.at(-1).channels} channels only` : '–', 'not measured');
      continue;
    }
    const marginal = marginals(all, kind, 'wall');
    // Super-linear growth shows as a marginal cost that rises from one size to the next.
    const rise = Math.max(...marginal.slice(1).map((m, i) => m / marginal[i]));
    add('#8', text, `marginal ms/channel ${marginal.map((m) => m.toFixed(2)).join(' → ')} (largest rise ×${rise.toFixed(2)})`, rise <= 1.5 ? 'met' : 'missed', loadNote(results.groups.find((g) => g.section === 'growth')?.load.before));
  }
  {
    const g = find(results, 'everyday', 'startup and --check');
    if (entry(g, 'codegen-hook-example')) absolute(g, 'codegen-hook-example', 300, '#7', 'pre-commit hook (`codegen --check --against HEAD --staged`) on the example document: under 300 ms');
    else add('#7', 'pre-commit hook on the example document: under 300 ms', results.projectError ? `could not be prepared: ${results.projectError}` : '–', 'not measured');
  }
  issue14Targets(results, { add, ratioTarget, absoluteMemory: (group, id, limitMb, text) => memoryTarget(add, group, id, limitMb, text) });
  return targets;
}

/** Peak memory of a codegen run at most `limitMb` (median of the runs; measure.mjs gives rss in MB). */
function memoryTarget(add, group, id, limitMb, text) {
  const e = entry(group, id);
  if (!group || !e) return add('#14', text, '–', 'not measured');
  if (!okEntry(e) || !e.rss) return add('#14', text, '✖ no valid run', 'void');
  add('#14', text, `${formatMb(e.rss.median)} peak (max RSS)`, invalid(e) ? 'void' : e.rss.median <= limitMb ? 'met' : 'missed', loadNote(group.load.before));
}

/**
 * Issue 14 ("speed near the limit"): start-up against `node -e 0` measured in the same group,
 * the peers by larger factors, memory, flat growth, and the generated client's CPU per event.
 */
function issue14Targets(results, { add, ratioTarget, absoluteMemory }) {
  const gen = (name) => find(results, 'generate', name);
  const everyday = find(results, 'everyday', 'startup and --check');
  /** codegen's time as a multiple of `node -e 0` in the same group (per-round ratio, median). */
  const startup = (group, id, max, text) => {
    const r = group?.ratios[`node-baseline/${id}`];
    if (!group || !r?.wall) return add('#14', text, '–', 'not measured');
    const times = 1 / r.wall.median;
    const cpu = r.cpu?.median ? 1 / r.cpu.median : NaN;
    const e = entry(group, id);
    add('#14', text, `×${times.toFixed(2)} wall (CPU ×${Number.isFinite(cpu) ? cpu.toFixed(2) : '–'}); ${formatMs(e.wall?.median)} vs ${formatMs(entry(group, 'node-baseline').wall?.median)}`, invalid(e) ? 'void' : times <= max ? 'met' : 'missed', loadNote(group.load.before));
  };
  startup(gen('streetlights'), 'codegen-cold', 3.5, '`generate` Streetlights, three targets, cold: at most 3.5 × `node -e 0`');
  ratioTarget(gen('streetlights'), 'modelina/codegen-cold', 10, '#14', '`generate` Streetlights ≥ 10× faster than Modelina');
  ratioTarget(gen('streetlights'), 'generator/codegen-cold', 15, '#14', '`generate` Streetlights ≥ 15× faster than the generator (Node.js template)');
  absoluteMemory(gen('streetlights'), 'codegen-cold', 80, '`generate` Streetlights, cold: at most 80 MB peak');
  ratioTarget(gen('synthetic-500'), 'modelina/codegen-cold', 20, '#14', '`generate` 500 channels ≥ 20× faster than Modelina');
  absoluteMemory(gen('synthetic-500'), 'codegen-cold', 200, '`generate` 500 channels, cold: under 200 MB peak');
  startup(everyday, 'codegen-version', 1.3, '`codegen --version`: at most 1.3 × `node -e 0`');
  startup(gen('streetlights'), 'codegen-warm', 1.8, 'warm (cached) `generate` Streetlights: at most 1.8 × `node -e 0`');
  startup(everyday, 'codegen-hook-example', 2.5, 'pre-commit hook (`--check --against HEAD --staged`) on the example: at most 2.5 × `node -e 0`');
  ratioTarget(find(results, 'diff', 'synthetic-500'), 'asyncapi-cli-diff/codegen-diff', 8, '#14', '`diff` 500-channel pair ≥ 8× faster than `asyncapi diff`');
  growthTarget(results, add);
  const events = results.runtime?.events;
  for (const [side, key] of [['publish', 'publish'], ['consume', 'consume']]) {
    const text = `generated client's own CPU per event, ${side} (no broker; bench/lib/runtime-bench.mjs): at most 3 µs`;
    const s = events?.nsPerEvent?.[key];
    if (!s) add('#14', text, results.runtime?.error ?? '–', 'not measured');
    else add('#14', text, `${ns(s.median)} per event (${ns(s.min)}–${ns(s.max)}), operation ${events.operation}`, s.median <= 3000 ? 'met' : 'missed', loadNote(results.runtime.load?.before));
  }
}

/** Marginal cost per channel flat within 1.2× from 50 to 2,000 channels; peak memory growing no faster than the output. */
function growthTarget(results, add) {
  const rows = (results.growth ?? []).filter((row) => row.generate?.wall);
  const text = '`generate` cost per channel flat within 1.2× from 50 to 2,000 channels, peak memory growing no faster than the output';
  if (rows.length < 3 || rows.at(-1).channels < 2000) return add('#14', text, rows.length ? `measured up to ${rows.at(-1).channels} channels only` : '–', 'not measured');
  const marginal = marginals(rows, 'generate', 'wall');
  const rise = Math.max(...marginal.slice(1).map((m, i) => m / marginal[i]));
  const first = rows[0].generate;
  const last = rows.at(-1).generate;
  const memoryGrowth = last.rss && first.rss ? last.rss.median / first.rss.median : NaN;
  const outputGrowth = rows.at(-1).channels / rows[0].channels;
  const verdict = rise <= 1.2 && !(memoryGrowth > outputGrowth) ? 'met' : 'missed';
  add('#14', text, `marginal ms/channel ${marginal.map((m) => m.toFixed(2)).join(' → ')} (largest rise ×${rise.toFixed(2)}); peak memory ×${memoryGrowth.toFixed(2)} for ×${outputGrowth} channels`, verdict, loadNote(results.groups.find((g) => g.section === 'growth')?.load.before));
}

/** Sum of the CPU time of every measured process, warm-ups included. */
function cpuTotal(results) {
  let total = 0;
  for (const g of results.groups) for (const e of Object.values(g.entries)) for (const s of [...(e.warmups ?? []), ...e.samples, ...e.failures]) total += s.cpu ?? 0;
  return total / 1000;
}

/** Marginal cost per channel between consecutive sizes: (t(n2) − t(n1)) / (n2 − n1). */
function marginals(rows, kind, key) {
  const out = [];
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    out.push((b[kind][key].median - a[kind][key].median) / (b.channels - a.channels));
  }
  return out;
}

// --- markdown --------------------------------------------------------------------------------------------

function groupTable(group) {
  const lines = ['| tool | wall time, median (min–max) | CPU time, median | peak memory, median (min–max) | runs | output check |', '|---|---|---|---|---|---|'];
  for (const id of group.tools) {
    const e = group.entries[id];
    const label = e.role === 'codegen' ? `**${e.label}**` : e.label;
    lines.push(`| ${label} | ${timeCell(e)} | ${formatMs(e.cpu?.median)} | ${spread(e.rss, formatMb)} | ${e.samples.length}${e.failures.length ? ` (+${e.failures.length} ✖)` : ''} | ${checkText(group, e)} |`);
  }
  return lines.join('\n');
}

function ratioTable(group) {
  const keys = Object.keys(group.ratios);
  if (keys.length === 0) return '';
  const lines = ['| pair (peer ÷ codegen) | wall, per round: median (min–max) | ratio of medians | CPU, per round median | peak memory (peer ÷ codegen) |', '|---|---|---|---|---|'];
  for (const key of keys) {
    const r = group.ratios[key];
    const [peer, base] = key.split('/');
    const name = `${group.entries[peer].label} ÷ ${group.entries[base].label}`;
    lines.push(`| ${name} | ${r.wall ? spread(r.wall, formatRatio) : '–'} | ${formatRatio(r.ofMedians)} | ${formatRatio(r.cpu?.median)} | ${formatRatio(r.memory)} |`);
  }
  return lines.join('\n');
}

function stageTable(group) {
  const rows = [];
  for (const id of group.tools) {
    const e = group.entries[id];
    if (!e.stages?.length) continue;
    const keys = [...new Set(e.stages.flatMap((s) => Object.keys(s)))];
    const median = (k) => {
      const v = e.stages.map((s) => s[k]).filter(Number.isFinite).sort((a, b) => a - b);
      return v.length ? v[Math.floor(v.length / 2)] : NaN;
    };
    rows.push(`- ${e.label}: ${keys.map((k) => `${k} ${formatMs(median(k))}`).join(', ')}`);
  }
  return rows.length ? `Stages (CODEGEN_TIMINGS=1, medians; \`process\` is time since the process started):\n\n${rows.join('\n')}` : '';
}

function commands(group) {
  return ['```sh', ...group.tools.map((id) => group.entries[id].display), '```'].join('\n');
}

function failures(group) {
  const lines = [];
  for (const id of group.tools) {
    for (const f of group.entries[id].failures.slice(0, 2)) lines.push(`- ${group.entries[id].label}, run ${f.round + 1}: ${f.note}${f.stderr ? ` — stderr: \`${f.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300).replace(/`/g, "'")}\`` : ''}`);
  }
  return lines.length ? `Failed runs (not counted):\n\n${lines.join('\n')}` : '';
}

function groupSection(group, heading) {
  const reduced = group.requestedRuns && group.requestedRuns > group.runs ? ` (${group.requestedRuns} asked; a warm-up run took over a minute, so one timed round only)` : '';
  const parts = [`### ${heading}`, '', `Input: ${group.input?.file ? `\`${group.input.file}\`` : '–'}${group.input?.channels ? ` (${group.input.channels} channels)` : ''}. ${group.runs} timed run(s) per tool${reduced} after one warm-up, in rotating order. Load average before / after: ${loadText(group.load.before)} → ${loadText(group.load.after)}.`, '', groupTable(group)];
  const ratios = ratioTable(group);
  if (ratios) parts.push('', ratios);
  const stages = stageTable(group);
  if (stages) parts.push('', stages);
  const fails = failures(group);
  if (fails) parts.push('', fails);
  parts.push('', 'Commands (run from the project root):', '', commands(group));
  return parts.join('\n');
}

function growthSection(results) {
  const rows = results.growth;
  if (!rows?.length) return '';
  const lines = [
    '## Growth: `generate` (cold) and `diff` from 50 to 2,000 channels',
    '',
    'Time and memory per channel. "Marginal" is the cost of the channels added since the previous size, (t(n₂) − t(n₁)) / (n₂ − n₁): it leaves out the fixed start-up cost, so a super-linear step shows as a rising figure. The target (flat within 1.5×) is judged on the marginal figures.',
    '',
    '| channels | generate: wall | ms / channel | marginal ms / channel | peak MB | marginal MB / channel | diff: wall | ms / channel | marginal ms / channel | peak MB | generate output check |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  rows.forEach((row, i) => {
    const prev = rows[i - 1];
    const m = (kind, key) => (prev && row[kind]?.[key] && prev[kind]?.[key] ? ((row[kind][key].median - prev[kind][key].median) / (row.channels - prev.channels)).toFixed(key === 'rss' ? 3 : 2) : '–');
    const per = (kind) => (row[kind]?.wall ? (row[kind].wall.median / row.channels).toFixed(2) : '–');
    const failedRss = !row.generate?.rss && row.generate?.failedRss ? ` ✖ (failed runs: ${formatMb(row.generate.failedRss.median)})` : '';
    lines.push(`| ${row.channels} | ${timeCell(row.generate)} | ${per('generate')} | ${m('generate', 'wall')} | ${formatMb(row.generate?.rss?.median)}${failedRss} | ${m('generate', 'rss')} | ${timeCell(row.diff)} | ${per('diff')} | ${m('diff', 'wall')} | ${formatMb(row.diff?.rss?.median)} | ${cell(row.verification?.message ?? '–')} |`);
  });
  const groups = results.groups.filter((g) => g.section === 'growth');
  lines.push('', `Load average per size: ${groups.map((g) => `${g.name}: ${loadText(g.load.before)}`).join('; ')}.`, '', 'Commands:', '', '```sh', ...groups.flatMap((g) => g.tools.map((id) => g.entries[id].display)), '```');
  return lines.join('\n');
}

function runtimeSection(results) {
  const rt = results.runtime;
  const out = ['## Run-time', ''];
  if (!rt) out.push('Not run (section not selected).');
  else if (rt.error) out.push(`The validator and envelope benchmark failed: ${rt.error}`);
  else {
    const v = rt.validators;
    out.push(
      `### Validators: generated (ajv standalone, compiled by codegen) against ajv compiling the same schemas at run time`,
      '',
      `Document \`${rt.document}\`: ${v.types} payload schemas, ${v.samples} instances (${v.valid} valid by ajv; the document's own examples and generated ones, every tenth broken). Validations per second of CPU time (process.cpuUsage), ${v.generated.n} alternating rounds. Both validators must agree on every instance: ${v.disagreements === 0 ? 'they do' : `**${v.disagreements} verdicts differ — the figure does not count**`}. Load average: ${loadText(rt.load.before)}.`,
      '',
      '| validator | validations / CPU-second, median (min–max) | ÷ ajv |',
      '|---|---|---|',
      `| **generated** (validators/strict.compiled.js) | ${spread(v.generated, rate)} | ${formatRatio(v.generated.median / v.ajv.median)} (per round ${spread(v.perRound, formatRatio)}) |`,
      `| ajv 8, compiled at run time (same schemas and options, ajv-formats) | ${spread(v.ajv, rate)} | 1 |`,
      `| generated typed facade (validators.ts: the call generated clients make) | ${spread(v.facade, rate)} | ${formatRatio(v.facade.median / v.ajv.median)} |`,
      '',
      '### CloudEvents envelope, per event',
      '',
      '| step | cost per event, median (min–max) |',
      '|---|---|',
      `| build: createEnvelope + envelopeToHeaders | ${spread(rt.envelope.build, ns)} |`,
      `| read: envelopeFromHeaders + readEnvelope | ${spread(rt.envelope.read, ns)} |`,
      `| for scale: JSON.stringify + JSON.parse of the same event's payload | ${spread(rt.envelope.json, ns)} |`,
      '',
      ...(rt.events
        ? [
            `### The generated client's own CPU per event (no broker; operation ${rt.events.operation})`,
            '',
            'Publish: runtime/producer.ts `prepareOutbound` (validation, envelope, headers, encoding) with the RabbitMQ header mapping. Consume: runtime/consumer.ts `ConsumerPipeline.process` (envelope read, decode, validation, de-duplication, handler, outcome), a new event id each time; the harness copies the headers per event (its cost is the last row, included in the consume figure).',
            '',
            '| path | CPU per event, median (min–max) |',
            '|---|---|',
            ...Object.entries(rt.events.nsPerEvent).map(([name, s]) => `| ${name} | ${spread(s, ns)} |`),
            '',
          ]
        : []),
      '```sh',
      rt.command,
      '```',
    );
  }
  out.push('', '### Broker throughput: generated client against the plain client library', '');
  const b = results.brokers;
  if (!b) out.push('Not run (section not selected).');
  else if (b.skipped) out.push(`Skipped: ${b.skipped}.`);
  else {
    out.push(`${b.events} events per run, ${b.rounds} rounds; each script alternates its sides. Load average: ${loadText(b.load.before)} → ${loadText(b.load.after)}.`, '');
    out.push('| broker | mode | plain client, events/s median (min–max) | generated, events/s median (min–max) | generated ÷ plain: per round, median (min–max) | ratio of medians | output read from |', '|---|---|---|---|---|---|---|');
    for (const r of b.results) {
      if (r.status !== 'measured') {
        out.push(`| ${r.broker} | – | ${cell(`${r.status}: ${r.reason}`)} | | | | |`);
        continue;
      }
      for (const [mode, m] of Object.entries(r.modes)) {
        const extra = m.plainJson ? ` (JSON-only plain: ${spread(m.plainJson, rate)})` : '';
        out.push(`| ${r.broker} | ${mode} | ${spread(m.plain, rate)}${extra} | ${spread(m.generated, rate)} | ${spread(m.perRound, formatRatio)} | ${formatRatio(m.ratio)} | ${m.contract ? 'JSON line' : 'the script\'s text output'} |`);
      }
    }
    out.push('', '```sh', ...b.results.map((r) => r.command), '```');
    const textual = b.results.filter((r) => r.status === 'measured' && !r.contract).map((r) => r.broker);
    if (textual.length) out.push('', `Read from text output (no JSON line yet): ${textual.join(', ')}. The harness prefers one JSON line per mode, last on stdout: \`{"broker":"kafka","mode":"default","generated":[eps, …],"plain":[eps, …]}\`.`);
  }
  return out.join('\n');
}

function avroSection(results) {
  const a = results.avro;
  const out = ['### Avro next to JSON on Kafka (the generated client, with the schema registry)', ''];
  if (!a) return [...out, 'Not run (section not selected).'].join('\n');
  if (a.skipped) return [...out, `Skipped: ${a.skipped}.`].join('\n');
  if (a.status !== 'measured') return [...out, `${a.status}: ${a.reason}`, '', '```sh', a.command, '```'].join('\n');
  out.push(
    `${a.events} events per round, ${a.rounds} rounds alternating JSON and Avro (bench/avro/asyncapi.yaml: the same order as JSON Schema and as Avro); publish to last event handled. CPU: the process's user + system time per event, median of the rounds. Bytes: record value and headers as on the topic. Load average: ${loadText(a.load.before)} → ${loadText(a.load.after)}.`,
    '',
    '| format | events/s median (min–max) | CPU µs per event | value bytes per event | header bytes per event |',
    '|---|---|---|---|---|',
    ...['json', 'avro'].map((f) => `| ${f === 'json' ? 'JSON' : 'Avro (Confluent wire format)'} | ${spread(a.eventsPerSecond[f], rate)} | ${a.cpuMicrosPerEvent[f]} | ${a.bytesPerEvent[f].value} | ${a.bytesPerEvent[f].headers} |`),
    '',
    '```sh',
    a.command,
    '```',
  );
  return out.join('\n');
}

function profileSection(results) {
  if (!results.profiles.length) return '';
  const out = ['## Where the time goes (profiles of codegen)', '', 'One run each under `node --cpu-prof` (cold, no cache); self time summed by area (a package, a folder of dist/, node built-ins, GC) and by function.', ''];
  for (const p of results.profiles) {
    out.push(`### ${p.name}`, '', '```sh', p.command, '```', '');
    if (p.error) {
      out.push(`No profile: ${p.error}`, '');
      continue;
    }
    if (p.stages) out.push(`Stages (CODEGEN_TIMINGS): ${Object.entries(p.stages).map(([k, v]) => `${k} ${formatMs(v)}`).join(', ')}.`, '');
    out.push(`Wall ${formatMs(p.wall)} (profiling adds overhead); ${formatMs(p.totalMs)} sampled.`, '', '| area | self time | share |', '|---|---|---|');
    for (const a of p.areas.slice(0, 8)) out.push(`| ${a.name} | ${formatMs(a.ms)} | ${(a.share * 100).toFixed(1)}% |`);
    out.push('', '| function | self time | share |', '|---|---|---|');
    for (const f of p.functions.slice(0, 10)) out.push(`| \`${f.name.replace(/\|/g, '\\|')}\` | ${formatMs(f.ms)} | ${(f.share * 100).toFixed(1)}% |`);
    out.push('');
  }
  return out.join('\n');
}

export function writeReport(results, { svg, readme = 'README.md' }) {
  const m = results.meta;
  CORES = m.cpus;
  const targets = judgeTargets(results);
  const maxLoad = Math.max(...m.loads.map((l) => l.load[0]));
  const loaded = maxLoad > m.cpus * 0.75;
  const title = `codegen ${m.codegenVersion} against the peers${m.quick ? ' (--quick)' : ''}`;
  const subtitle = `${m.date.slice(0, 16).replace('T', ' ')} UTC · node ${m.node} · ${m.cpus} × ${m.cpuModel} · load average ${loadText(m.loads[0].load)} at start, up to ${maxLoad.toFixed(2)}`;
  const md = [];
  md.push(`# Benchmark results${m.quick ? ' (quick check)' : ''}`, '', `Written by \`${m.command}\` (bench/run.mjs) — do not edit by hand; re-run it. What each figure means: [bench/README.md](${readme}).`, '');
  if (loaded) {
    md.push(`> **Measured on a loaded machine** (1-minute load average up to ${maxLoad.toFixed(2)} on ${m.cpus} cores). Wall times are inflated and noisy; CPU times are less affected; ratios come from alternating runs, so drift hits both sides, but a loaded machine still favours neither side reliably. Re-run on a quiet machine before publishing these figures.`, '');
  }
  if (m.rebuilt) {
    md.push('> **codegen changed during this run** (dist/ rebuilt or templates/ edited): some figures are for one version and some for the next. Re-run while nobody builds or edits.', '');
  }
  const measuredNote = m.snapshotBuild
    ? `; measured: a snapshot of bin/, dist/ and templates/ taken at the start (build ${m.snapshotBuild.slice(0, 8)})${m.changedSinceSnapshot ? ', the working tree changed during the run (not measured)' : ''}`
    : '';
  md.push(
    '## Machine and conditions',
    '',
    '| | |',
    '|---|---|',
    `| date | ${m.date} |`,
    `| machine | ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.platform} |`,
    `| node | ${m.node} |`,
    `| codegen | ${m.codegenVersion}, commit ${m.commit ?? '?'}${m.dirty ? ' with uncommitted changes in src/templates/scripts' : ''}; ${m.buildNote}${measuredNote} |`,
    `| peers | ${Object.entries(m.peers).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') || 'not installed'} |`,
    `| runs | ${m.runsSmall} per tool and input for small inputs (≤ 50 channels), ${m.runsLarge} for large ones, each after one warm-up run; tools alternate in rotating order |`,
    `| measured with | wall time: the harness's clock around each process; CPU time and peak memory (max RSS): ${m.gnuTime ? '`/usr/bin/time -f "%e %U %S %M"`' : 'not available (no /usr/bin/time)'} |`,
    `| \`generate\` targets | \`--target ${m.generateTargets}\` (all three brokers) |`,
    `| load average (1 / 5 / 15 min) | ${m.loads.map((l) => `${l.where} (${l.at} s): ${loadText(l.load)}`).join('; ')} |`,
    `| duration | ${m.durationS} s (CPU time of the measured processes: ${Math.round(cpuTotal(results))} s — on a quiet ${m.cpus}-core machine the run takes about that plus the output checks) |`,
    '',
    '![codegen against the peers](' + svg + ')',
    '',
    '## Targets',
    '',
    '| issue | target | measured | verdict | conditions |',
    '|---|---|---|---|---|',
    ...targets.map((t) => `| ${t.issue} | ${t.text} | ${cell(t.measured)} | ${verdictMark(t.verdict)} | ${cell(t.note)} |`),
    '',
    'Ratios are peer time ÷ codegen time, computed round by round (each round runs every tool once), median over the rounds. "Void": codegen\'s output for that input failed its check (see the section), so its figure does not count.',
    '',
  );
  const headings = { generate: 'generate', validate: 'validate', everyday: 'everyday', diff: 'diff' };
  const sectionTitles = {
    generate: '## `generate`: codegen against Modelina and the generator',
    validate: '## `validate`: codegen against @asyncapi/parser',
    everyday: '## Start-up, `--check` and the pre-commit hook (the build-script and pre-commit case)',
    diff: '## `diff`: codegen against `asyncapi diff` and @asyncapi/diff',
  };
  for (const section of Object.keys(headings)) {
    const groups = results.groups.filter((g) => g.section === section);
    if (!groups.length) continue;
    md.push(sectionTitles[section], '');
    if (section === 'generate') md.push('Cold: `--no-cache` and `CODEGEN_CACHE=0`, every stage runs. First run: an empty cache folder before every run (the formatted run-time files shipped in dist/format-cache are used). Warm: the content-hash cache primed by the warm-up run. The output folder is emptied before every run in all three. The peers have no cache. Modelina writes TypeScript models only; the generator with the Node.js template writes a JavaScript application; codegen writes types, validators, envelope and clients for three brokers.', '');
    if (section === 'everyday') md.push('`--version`; `generate --check` on an up-to-date output folder; and, in a git repository prepared once (the document as asyncapi.yaml, a codegen.config.json, the generated code committed, a compatible change regenerated and staged), `codegen --check` from the config file and the pre-commit hook `codegen --check --against HEAD --staged`. The content-hash cache is warm, as on a developer\'s machine after any earlier run.', '');
    if (section === 'diff') md.push('Each pair: the new version changes about one channel in ten (enum value added, field made required, a bound narrowed, a property removed from a closed object, a channel removed) and bumps `info.version` by a minor step. Findings counts are printed per tool; the tools classify differently by design.', '');
    for (const g of groups) md.push(groupSection(g, g.input?.label ?? g.name), '');
  }
  const growth = growthSection(results);
  if (growth) md.push(growth, '');
  md.push(runtimeSection(results), '');
  md.push(avroSection(results), '');
  const profiles = profileSection(results);
  if (profiles) md.push(profiles, '');
  const missed = targets.filter((t) => t.verdict === 'missed' || t.verdict === 'void');
  md.push('## Missed targets', '');
  if (missed.length === 0) md.push('None of the measured targets is missed.');
  else md.push(...missed.map((t) => `- ${t.issue} ${t.text}: ${t.measured} — ${verdictMark(t.verdict)}`), '', 'Where the time goes: see the stage timings in each section and the profiles above.');
  const notes = path.join(BENCH, 'NOTES.md');
  if (existsSync(notes)) md.push('', '## Closing note', '', readFileSync(notes, 'utf8').trim());
  md.push('');

  // Chart panels: every comparison group, codegen first.
  const panels = results.groups
    .filter((g) => ['generate', 'validate', 'diff'].includes(g.section))
    .map((g) => ({
      title: `${g.section} · ${g.input?.label ?? g.name}`,
      bars: g.tools.map((id) => {
        const e = g.entries[id];
        const failed = !e.wall && e.failedWall;
        const base = g.tools.find((t) => g.entries[t].role === 'codegen');
        const r = e.role === 'peer' && base ? g.ratios[`${id}/${base}`]?.wall : null;
        return { label: e.label, role: e.role, wall: e.wall ?? e.failedWall, rss: e.rss ?? e.failedRss, invalid: failed || (e.role === 'codegen' && invalid(e)), note: e.failures[0]?.note ?? e.notes[0], ratio: r ? `${formatRatio(r.median)}` : undefined };
      }),
    }));
  return { markdown: md.join('\n'), panels, title, subtitle };
}
