#!/usr/bin/env node
// `npm run bench`: codegen side by side with the tools people would use instead, in one run on one
// machine; writes bench/RESULTS.md and bench/results.svg. See bench/README.md for what each figure
// means. `npm run bench -- --quick` is the check before a commit (under 2 minutes on a quiet machine).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAvro, runBrokers } from './lib/brokers.mjs';
import { renderChart } from './lib/chart.mjs';
import { runGroup, pairRatio } from './lib/group.mjs';
import { buildInputs } from './lib/inputs.mjs';
import { HAS_GNU_TIME, loadAverage, measure, stopAll } from './lib/measure.mjs';
import { profileRun } from './lib/profile.mjs';
import { writeReport } from './lib/report.mjs';
import { summary } from './lib/stats.mjs';
import * as tools from './lib/tools.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = ['generate', 'validate', 'everyday', 'diff', 'growth', 'runtime', 'brokers', 'avro', 'profile'];

const HELP = `npm run bench [-- options]

  --quick            the check before a commit (< 2 min quiet): Streetlights only against the peers
                     (not @asyncapi/diff), 3 runs, no growth, brokers or profiles (add them with
                     --only or --brokers);
                     writes .cache/bench/RESULTS-quick.md (bench/RESULTS.md is left alone)
  --only <list>      run only these sections: ${SECTIONS.join(', ')}
  --runs <n>         timed runs per tool and input (default 5 for small inputs, 3 for large;
                     --quick: 3 and 2); one warm-up run of each tool comes first
                     (--quick --only growth: growth at 50 and 500 channels)
  --brokers          run the broker throughput scripts in --quick too
  --no-brokers       skip them in a full run
  --events <n>       events per broker run (default 20000; --quick 2000), --rounds <n> (default 3)
  --no-build         do not rebuild dist/ even when src/ is newer (the default rebuilds then)
  --out <file>       where to write the report (default bench/RESULTS.md; the chart goes next to it
                     as results.svg, the raw figures to .cache/bench/results.json)
  --from <json>      measure nothing: write the report and chart again from a saved results.json
  --help
`;

function parseArgs(argv) {
  const opts = { quick: false, only: null, runs: null, brokers: null, events: null, rounds: 3, build: true, out: null, from: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--only') opts.only = next().split(',').map((s) => s.trim());
    else if (a === '--runs') opts.runs = Number(next());
    else if (a === '--brokers') opts.brokers = true;
    else if (a === '--no-brokers') opts.brokers = false;
    else if (a === '--events') opts.events = Number(next());
    else if (a === '--rounds') opts.rounds = Number(next());
    else if (a === '--no-build') opts.build = false;
    else if (a === '--out') opts.out = path.resolve(next());
    else if (a === '--from') opts.from = path.resolve(next());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n\n${HELP}`);
  }
  for (const s of opts.only ?? []) if (!SECTIONS.includes(s)) throw new Error(`unknown section "${s}"; choose from ${SECTIONS.join(', ')}`);
  if (opts.runs !== null && !(opts.runs >= 1)) throw new Error('--runs must be at least 1');
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}

const started = Date.now();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopAll();
    process.stderr.write(`\ninterrupted: the processes started by the bench were stopped; nothing was written\n`);
    process.exit(130);
  });
}
const log = (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
// --quick leaves out what takes minutes: growth (large documents), brokers, profiles.
const want = (section) => (opts.only ? opts.only.includes(section) : !opts.quick || !['growth', 'profile'].includes(section));
const runsSmall = opts.runs ?? (opts.quick ? 3 : 5);
const runsLarge = opts.runs ?? (opts.quick ? 2 : 3);
const brokersOn = opts.brokers ?? !opts.quick;
const events = opts.events ?? (opts.quick ? 2000 : 20000);
const timeoutMs = opts.quick ? 180_000 : 600_000;
const reportFile = opts.out ?? (opts.quick ? path.join(ROOT, '.cache', 'bench', 'RESULTS-quick.md') : path.join(ROOT, 'bench', 'RESULTS.md'));

/** Writes RESULTS.md, the chart and the raw figures. */
function writeAll(results, { saveJson }) {
  mkdirSync(path.dirname(reportFile), { recursive: true });
  if (saveJson) {
    mkdirSync(path.join(ROOT, '.cache', 'bench'), { recursive: true });
    writeFileSync(path.join(ROOT, '.cache', 'bench', opts.quick ? 'results-quick.json' : 'results.json'), JSON.stringify(results, null, 2));
  }
  const svgFile = path.join(path.dirname(reportFile), opts.quick || results.meta.quick ? 'results-quick.svg' : 'results.svg');
  const { markdown, panels, title, subtitle } = writeReport(results, { svg: path.basename(svgFile), readme: path.relative(path.dirname(reportFile), path.join(ROOT, 'bench', 'README.md')) });
  writeFileSync(reportFile, markdown);
  writeFileSync(svgFile, renderChart(panels, { title, subtitle }));
  return svgFile;
}

if (opts.from) {
  const saved = JSON.parse(readFileSync(opts.from, 'utf8'));
  const svg = writeAll(saved, { saveJson: false });
  log(`wrote ${path.relative(ROOT, reportFile)} and ${path.relative(ROOT, svg)} from ${path.relative(ROOT, opts.from)} (nothing measured)`);
  process.exit(0);
}

// --- preconditions ---------------------------------------------------------------------------------
const newestIn = (dir) => {
  let newest = 0;
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else newest = Math.max(newest, st.mtimeMs);
    }
  };
  walk(dir);
  return newest;
};
const buildId = path.join(ROOT, 'dist', 'build-id');
let buildNote = 'dist/ up to date with src/ and templates/';
const stale = !existsSync(buildId) || Math.max(newestIn(path.join(ROOT, 'src')), newestIn(path.join(ROOT, 'scripts'))) > statSync(buildId).mtimeMs;
if (stale && opts.build) {
  log('dist/ is missing or older than src/: npm run build');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) {
    log('npm run build failed; fix the build first');
    process.exit(2);
  }
} else if (stale) buildNote = 'dist/ is OLDER than some file in src/ (--no-build): the figures are for the code last built';
if (!existsSync(path.join(ROOT, 'dist', 'cli', 'run.js'))) {
  log('dist/ is missing: run npm run build');
  process.exit(2);
}
const peersInstalled = existsSync(path.join(ROOT, 'bench', 'node_modules', '@asyncapi', 'cli', 'package.json'));
if (!peersInstalled) log('the peers are not installed (run: npm install --prefix bench); measuring codegen alone');

const ctx = tools.createContext(ROOT);
const buildAtStart = tools.currentBuildId(ctx);
tools.snapshotCodegen(ctx);
log('measuring a snapshot of the built codegen (bin, dist, templates) in .cache/bench/codegen');
rmSync(path.join(ctx.work, 'out'), { recursive: true, force: true });
rmSync(path.join(ctx.work, 'verify'), { recursive: true, force: true });
rmSync(ctx.cacheDir, { recursive: true, force: true });
mkdirSync(ctx.work, { recursive: true });
writeFileSync(ctx.analyticsConfig, JSON.stringify({ analyticsEnabled: 'false', infoMessageShown: 'true', userID: 'codegen-bench' }));

const sizes = opts.quick && !opts.only?.includes('growth') ? [50] : opts.quick ? [50, 500] : [50, 500, 2000];
log(`building inputs in bench/inputs (synthetic: ${sizes.join(', ')} channels)`);
const { inputs, pairs } = buildInputs(ROOT, sizes);

const peerVersion = (name) => {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'bench', 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
};
const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};
const loads = [];
const sampleLoad = (where) => loads.push({ where, at: Math.round((Date.now() - started) / 1000), load: loadAverage() });
sampleLoad('start');

const results = {
  meta: {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    quick: opts.quick,
    runsSmall,
    runsLarge,
    gnuTime: HAS_GNU_TIME,
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: (git('status', '--porcelain', '--', 'src', 'templates', 'bin', 'scripts') ?? '').length > 0,
    buildNote,
    snapshotBuild: buildAtStart.split(':')[0],
    codegenVersion: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
    peers: {
      '@asyncapi/parser': peerVersion('@asyncapi/parser'),
      '@asyncapi/modelina': peerVersion('@asyncapi/modelina'),
      '@asyncapi/generator': peerVersion('@asyncapi/generator'),
      '@asyncapi/generator (1.x, used with the Node.js template)': peerVersion('@asyncapi/cli/node_modules/@asyncapi/generator'),
      '@asyncapi/nodejs-template': peerVersion('@asyncapi/nodejs-template'),
      '@asyncapi/diff': peerVersion('@asyncapi/diff'),
      '@asyncapi/cli': peerVersion('@asyncapi/cli'),
    },
    peersInstalled,
    generateTargets: tools.GENERATE_TARGETS,
    loads,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  },
  groups: [],
  growth: null,
  runtime: null,
  brokers: null,
  avro: null,
  profiles: [],
};

async function group(section, name, input, toolList, runs) {
  const list = toolList.filter(Boolean);
  const loadBefore = loadAverage();
  log(`${section} · ${name}: ${list.length} tool(s), 1 warm-up + ${runs} runs each, alternating`);
  const entries = await runGroup({ name, tools: list, runs, timeoutMs, log, cwd: ROOT });
  const loadAfter = loadAverage();
  sampleLoad(`${section} · ${name}`);
  const codegenIds = list.filter((t) => t.role === 'codegen').map((t) => t.id);
  const ratios = {};
  for (const base of codegenIds) {
    for (const peer of list.filter((t) => t.role === 'peer')) ratios[`${peer.id}/${base}`] = pairRatio(entries[base], entries[peer.id]);
  }
  const verification = Object.fromEntries([...ctx.verifications].filter(([k]) => k.endsWith(`:${input?.name}`)));
  const rounds = entries.__rounds ?? { requested: runs, done: runs };
  const record = { section, name, input: input ?? null, runs: rounds.done, requestedRuns: rounds.requested, tools: list.map((t) => t.id), entries, ratios, load: { before: loadBefore, after: loadAfter }, verification };
  results.groups.push(record);
  return record;
}

const small = (input) => (input.channels ?? 0) <= 50;
const peers = peersInstalled;

// --- generate: codegen (cold and warm) against Modelina and the generator ---------------------------
if (want('generate')) {
  const list = opts.quick ? ['streetlights'] : ['streetlights', 'synthetic-50', 'synthetic-500'];
  for (const name of list) {
    const input = inputs[name];
    await group('generate', name, input, [
      tools.codegenGenerate(ctx, 'generate', input, { mode: 'cold' }),
      !opts.quick && tools.codegenGenerate(ctx, 'generate', input, { mode: 'first' }),
      tools.codegenGenerate(ctx, 'generate', input, { mode: 'warm' }),
      peers && tools.modelina(ctx, 'generate', input),
      peers && tools.asyncapiGenerator(ctx, 'generate', input),
      peers && name === 'streetlights' && !opts.quick && tools.parser(ctx, input),
      name === 'streetlights' && tools.nodeBaseline(ctx),
    ], small(input) ? runsSmall : runsLarge);
  }
}

// --- validate: codegen validate (parser engine and fast engine) against the parser alone ------------
if (want('validate')) {
  const list = opts.quick ? ['streetlights'] : ['streetlights', 'synthetic-500'];
  for (const name of list) {
    const input = inputs[name];
    await group('validate', name, input, [tools.codegenValidate(ctx, input, 'parser'), tools.codegenValidate(ctx, input, 'parser', { remembered: true }), tools.codegenValidate(ctx, input, 'fast'), peers && tools.parser(ctx, input)], small(input) ? runsSmall : runsLarge);
  }
}

// --- everyday: --version and generate --check on up-to-date folders (issue 7's build-script case) ---
if (want('everyday')) {
  const prepareOnce = async ([cmd, ...args], env, cwd = ROOT) => {
    const r = await measure({ cmd, args, cwd, env, timeoutMs });
    if (r.code !== 0) throw new Error(`preparing the --check runs failed: ${cmd} ${args.join(' ')}: ${r.stderr}`);
  };
  const documents = opts.quick ? [inputs.example] : [inputs.example, inputs['synthetic-500']];
  const list = [tools.nodeBaseline(ctx), tools.codegenVersion(ctx)];
  for (const input of documents) {
    list.push(await tools.codegenCheck(ctx, 'everyday', input, prepareOnce));
    try {
      const dir = await tools.prepareProject(ctx, input, prepareOnce);
      list.push(tools.codegenProjectCommand(ctx, input, dir, 'check'), tools.codegenProjectCommand(ctx, input, dir, 'hook'));
    } catch (error) {
      log(`  the config-file --check and the hook cannot be measured: ${error.message.split('\n')[0]}`);
      results.projectError = error.message.slice(0, 500);
    }
  }
  await group('everyday', 'startup and --check', null, list, runsSmall);
}

// --- diff: codegen diff against asyncapi diff and @asyncapi/diff ----------------------------------------
if (want('diff')) {
  const list = opts.quick ? ['streetlights'] : ['streetlights', 'synthetic-500'];
  for (const name of list) {
    const pair = pairs[name];
    await group('diff', name, { name: `pair-${name}`, label: pair.label, channels: pair.channels, file: `${pair.old} → ${pair.new}` }, [tools.codegenDiff(ctx, pair), peers && tools.asyncapiCliDiff(ctx, pair), peers && !opts.quick && tools.asyncapiDiffLibrary(ctx, pair)], small(pair) ? runsSmall : runsLarge);
  }
}

// --- growth: generate and diff at 50, 500 and 2,000 channels --------------------------------------------
if (want('growth')) {
  const rows = [];
  for (const n of sizes) {
    const input = inputs[`synthetic-${n}`];
    const record = await group('growth', `${n} channels`, input, [tools.codegenGenerate(ctx, 'growth', input, { mode: 'cold' }), tools.codegenDiff(ctx, pairs[`synthetic-${n}`])], n <= 50 ? runsSmall : runsLarge);
    rows.push({ channels: n, generate: record.entries['codegen-cold'], diff: record.entries['codegen-diff'], verification: record.verification[`generate:${input.name}`] });
  }
  results.growth = rows;
}

// --- runtime: validators against ajv, envelope cost -----------------------------------------------------
if (want('runtime')) {
  const document = inputs.example.file;
  const rounds = opts.quick ? 3 : 7;
  const ms = opts.quick ? 150 : 400;
  const args = [path.join(ROOT, 'bench/lib/runtime-bench.mjs'), document, path.join(ctx.work, 'runtime'), String(rounds), String(ms)];
  log(`runtime: node bench/lib/runtime-bench.mjs ${document} (${rounds} rounds of ${ms} ms CPU per side)`);
  const loadBefore = loadAverage();
  const r = await measure({ cmd: process.execPath, args, cwd: ROOT, env: { CODEGEN_ROOT: ctx.snapshot }, timeoutMs });
  const parsed = tools.lastJson(r.stdout);
  sampleLoad('runtime');
  if (r.code !== 0 || !parsed) results.runtime = { error: `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-4).join(' ')}` };
  else {
    const v = parsed.validators;
    results.runtime = {
      document,
      command: `node bench/lib/runtime-bench.mjs ${document} .cache/bench/runtime ${rounds} ${ms}`,
      load: { before: loadBefore, after: loadAverage() },
      validators: {
        types: v.types,
        samples: v.samples,
        valid: v.valid,
        disagreements: v.disagreements,
        generated: summary(v.perSecond.generated),
        ajv: summary(v.perSecond.ajv),
        facade: summary(v.perSecond.facade),
        perRound: summary(v.perSecond.generated.map((g, i) => g / v.perSecond.ajv[i])),
      },
      envelope: Object.fromEntries(Object.entries(parsed.envelope.nsPerEvent).map(([k, list]) => [k, summary(list)])),
      events: parsed.events ? { operation: parsed.events.operation, nsPerEvent: Object.fromEntries(Object.entries(parsed.events.nsPerEvent).map(([k, list]) => [k, summary(list)])) } : undefined,
    };
  }
}

// --- brokers ---------------------------------------------------------------------------------------------
if (want('brokers') && brokersOn) {
  log(`brokers: bench/<broker>/throughput.mjs ${events} events × ${opts.rounds} rounds, where the script exists and the broker is up`);
  const loadBefore = loadAverage();
  results.brokers = { events, rounds: opts.rounds, load: { before: loadBefore }, results: await runBrokers({ root: ROOT, events, rounds: opts.rounds, timeoutMs, log }) };
  results.brokers.load.after = loadAverage();
  sampleLoad('brokers');
} else if (want('brokers')) results.brokers = { skipped: opts.quick ? '--quick (add --brokers to include them)' : '--no-brokers' };

// --- avro: Avro publish and consume next to JSON on Kafka (bench/avro/throughput.mjs) ----------------------
if (want('avro') && brokersOn) {
  results.avro = await runAvro({ root: ROOT, events, rounds: opts.rounds, timeoutMs, log });
  sampleLoad('avro');
} else if (want('avro')) results.avro = { skipped: opts.quick ? '--quick (add --brokers to include it)' : '--no-brokers' };

// --- profiles: where codegen's time goes (full runs) -------------------------------------------------------
if (want('profile')) {
  const targets = [
    { name: 'generate streetlights (cold)', args: [ctx.codegen, 'generate', inputs.streetlights.file, '--target', tools.GENERATE_TARGETS, '--out', path.join(ctx.work, 'out', 'profile', 'streetlights'), '--no-cache'] },
    { name: 'generate synthetic-500 (cold)', args: [ctx.codegen, 'generate', inputs['synthetic-500'].file, '--target', tools.GENERATE_TARGETS, '--out', path.join(ctx.work, 'out', 'profile', 'synthetic-500'), '--no-cache'] },
    { name: 'validate streetlights', args: [ctx.codegen, 'validate', inputs.streetlights.file] },
    { name: 'diff synthetic-500 pair', args: [ctx.codegen, 'diff', pairs['synthetic-500'].old, pairs['synthetic-500'].new, '--format', 'json'] },
  ];
  for (const [i, target] of targets.entries()) {
    log(`profile: node --cpu-prof bin/codegen.js ${target.args.slice(1).map((a) => path.relative(ROOT, a) || a).join(' ')}`);
    rmSync(path.join(ctx.work, 'out', 'profile'), { recursive: true, force: true });
    const p = await profileRun({ root: ROOT, dir: path.join(ctx.work, 'profiles', String(i)), args: target.args, env: { CODEGEN_TIMINGS: '1', CODEGEN_CACHE: '0' }, timeoutMs });
    results.profiles.push({ name: target.name, command: `node --cpu-prof bin/codegen.js ${target.args.slice(1).map((a) => (path.isAbsolute(a) ? path.relative(ROOT, a) : a)).join(' ')}`, stages: tools.parseStageTimings(p.stderr ?? ''), ...p });
  }
}

sampleLoad('end');
// The snapshot is what was measured; a rebuild in the working tree meanwhile only makes it older.
results.meta.rebuilt = ctx.rebuilt === true;
results.meta.changedSinceSnapshot = tools.currentBuildId(ctx) !== buildAtStart;
results.meta.durationS = Math.round((Date.now() - started) / 1000);

// --- write -------------------------------------------------------------------------------------------
const svgFile = writeAll(results, { saveJson: true });
log(`wrote ${path.relative(ROOT, reportFile)} and ${path.relative(ROOT, svgFile)} in ${results.meta.durationS} s`);
