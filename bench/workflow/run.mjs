// Times the everyday workflow commands as whole processes (what a developer and a hook wait for):
// `codegen --check` and the pre-commit hook `codegen --check --against HEAD --staged`, on the
// bundled example document and on a synthetic 500-channel document. Writes bench/workflow/RESULTS.md.
//
// Usage: npm run build && node bench/workflow/run.mjs [--runs 7] [--cold]
//   --cold  also time `codegen --check --no-cache` on the example (what a machine without the cache pays)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageParts } from '../lib/tools.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 7;
const cold = args.includes('--cold');
const work = mkdtempSync(path.join(os.tmpdir(), 'codegen-bench-workflow-'));
// A snapshot of the built package (what it ships), so edits in the working tree during the run
// cannot change what is measured; node_modules is linked.
const pkg = path.join(work, 'codegen');
for (const part of packageParts(root)) cpSync(path.join(root, part), path.join(pkg, part), { recursive: true });
symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
const bin = path.join(pkg, 'bin/codegen.js');
const env = { ...process.env, NO_COLOR: '1', CODEGEN_CACHE: '1', CODEGEN_CACHE_DIR: path.join(work, 'cache'), GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid' };
delete env.CODEGEN_TIMINGS;

/** CPU time (user + system, ms) of this process's waited-for children, from /proc (Linux); undefined elsewhere. */
function childrenCpuMs() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    // After "comm)": field 3 is index 0, so cutime (16) and cstime (17) are indexes 13 and 14; clock ticks of 10 ms.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

function time(command, commandArgs, cwd, expectCodes = [0]) {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const result = spawnSync(command, commandArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  const wall = performance.now() - started;
  const cpuAfter = childrenCpuMs();
  if (!expectCodes.includes(result.status)) {
    throw new Error(`${command} ${commandArgs.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return { wall, cpu: cpuBefore === undefined ? undefined : cpuAfter - cpuBefore };
}

function measure(label, command, commandArgs, cwd, count = runs, expectCodes = [0]) {
  time(command, commandArgs, cwd, expectCodes); // warm-up: file-system cache, V8 code cache
  const samples = Array.from({ length: count }, () => time(command, commandArgs, cwd, expectCodes));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const walls = samples.map((s) => s.wall);
  const row = {
    label,
    command: [command === process.execPath ? 'node' : command, ...commandArgs.map((a) => (a === bin ? 'bin/codegen.js' : a))].join(' '),
    runs: count,
    median: median(walls),
    min: Math.min(...walls),
    max: Math.max(...walls),
    cpu: samples[0].cpu === undefined ? undefined : median(samples.map((s) => s.cpu)),
  };
  console.error(`${label.padEnd(46)} median ${row.median.toFixed(0).padStart(6)} ms  (min ${row.min.toFixed(0)}, max ${row.max.toFixed(0)}, cpu ${row.cpu ?? '?'} ms)`);
  return row;
}

function git(cwd, ...gitArgs) {
  return execFileSync('git', gitArgs, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

let firstGeneration = 0;

/** A git repository with the document, a config and the generated code committed, and a compatible change staged. */
function setUp(name, document, targets) {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  cpSync(document, path.join(dir, 'asyncapi.yaml'));
  writeFileSync(path.join(dir, 'codegen.config.json'), JSON.stringify({ documents: [{ document: 'asyncapi.yaml', targets, out: 'src/events' }] }, null, 2) + '\n');
  writeFileSync(path.join(dir, 'README.md'), '# bench\n');
  git(dir, 'init', '-q', '-b', 'main');
  const started = performance.now();
  execFileSync(process.execPath, [bin], { cwd: dir, env, stdio: 'ignore' });
  firstGeneration = performance.now() - started;
  console.error(`${name}: first generation (cold cache) ${(firstGeneration / 1000).toFixed(1)} s`);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  // A compatible change, regenerated and staged: what the hook sees on a normal commit.
  const text = readFileSync(path.join(dir, 'asyncapi.yaml'), 'utf8');
  writeFileSync(path.join(dir, 'asyncapi.yaml'), text.replace(/^info:\n/m, 'info:\n  x-reviewed-by: bench\n'));
  execFileSync(process.execPath, [bin], { cwd: dir, env, stdio: 'ignore' });
  git(dir, 'add', '-A');
  return dir;
}

function timings(dir, commandArgs) {
  const result = spawnSync(process.execPath, [bin, ...commandArgs], { cwd: dir, env: { ...env, CODEGEN_TIMINGS: '1' }, encoding: 'utf8' });
  return (result.stderr.match(/^timings \(ms\):.*$/m) ?? [''])[0];
}

const synthetic = path.join(work, 'synthetic-500.yaml');
execFileSync(process.execPath, [path.join(root, 'bench/synthetic.mjs'), '500', synthetic], { stdio: 'ignore' });
const loadBefore = os.loadavg();
const sections = [];
for (const [name, document, targets] of [
  ['example', path.join(root, 'fixtures/example/asyncapi.yaml'), ['rabbitmq', 'kafka', 'nats']],
  ['synthetic-500', synthetic, ['rabbitmq', 'kafka', 'nats']],
]) {
  const dir = setUp(name, document, targets);
  const rows = [];
  if (name === 'example') {
    rows.push(measure('node startup (node -e 0), the floor', process.execPath, ['-e', '0'], dir));
    rows.push(measure('codegen --version (CLI start)', process.execPath, [bin, '--version'], dir));
  }
  rows.push(measure('codegen --check', process.execPath, [bin, '--check'], dir));
  rows.push(measure('pre-commit hook: --check --against HEAD --staged', process.execPath, [bin, '--check', '--against', 'HEAD', '--staged'], dir));
  rows.push(measure('  its half: --check --staged', process.execPath, [bin, '--check', '--staged'], dir));
  rows.push(measure('  its half as a process: diff --against HEAD', process.execPath, [bin, 'diff', '--against', 'HEAD', 'asyncapi.yaml'], dir));
  rows.push(measure('hook, only an unrelated file given', process.execPath, [bin, '--check', '--against', 'HEAD', 'README.md'], dir));
  if (cold && name === 'example') rows.push(measure('codegen --check --no-cache (cold)', process.execPath, [bin, '--check', '--no-cache'], dir, 3));
  sections.push({ name, targets, rows, first: firstGeneration, stages: timings(dir, ['--check']) });
}
const loadAfter = os.loadavg();

const cpu = os.cpus();
const fmt = (n) => (n === undefined ? '?' : n.toFixed(0));
const lines = [
  '# Workflow benchmark: `codegen --check` and the pre-commit hook',
  '',
  'Whole-process wall time (spawn to exit) of the built binary, as a hook or CI step waits for it;',
  `median of ${runs} runs after one warm-up run (fewer where noted), with the CPU time (user + system) the process used.`,
  'The content-hash cache is warm (the state after any earlier run on the machine), except where `--no-cache` says otherwise.',
  '',
  '```',
  'npm run build',
  `node bench/workflow/run.mjs --runs ${runs}${cold ? ' --cold' : ''}`,
  '```',
  '',
  `Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`,
  `Load average (1 min) ${loadBefore[0].toFixed(1)} before and ${loadAfter[0].toFixed(1)} after the runs${loadBefore[0] > cpu.length ? ': the machine was busy with other work, so wall times are inflated; CPU time is the steadier figure' : ''}.`,
  `Date: ${new Date().toISOString().slice(0, 10)}.`,
  '',
];
for (const section of sections) {
  lines.push(`## ${section.name === 'example' ? 'fixtures/example/asyncapi.yaml' : 'synthetic 500-channel document (`node bench/synthetic.mjs 500 <out.yaml>`)'} — targets ${section.targets.join(', ')}`, '');
  lines.push('| what | command | median ms | min ms | max ms | CPU ms | runs |', '|---|---|---:|---:|---:|---:|---:|');
  for (const row of section.rows) lines.push(`| ${row.label.trim()} | \`${row.command}\` | ${fmt(row.median)} | ${fmt(row.min)} | ${fmt(row.max)} | ${fmt(row.cpu)} | ${row.runs} |`);
  lines.push('', `First \`codegen\` run, cold cache (generation and formatting of everything, one run): ${(section.first / 1000).toFixed(1)} s.`);
  lines.push('', `Stages of one \`codegen --check\` (CODEGEN_TIMINGS=1): \`${section.stages}\``, '');
}
// The hand-written analysis below the marker survives a re-run.
const resultsFile = path.join(root, 'bench/workflow/RESULTS.md');
const marker = '<!-- analysis: kept when the script rewrites this file -->';
let analysis = `${marker}\n`;
try {
  const previous = readFileSync(resultsFile, 'utf8');
  if (previous.includes(marker)) analysis = previous.slice(previous.indexOf(marker));
} catch {
  // first run
}
writeFileSync(resultsFile, lines.join('\n') + '\n' + analysis);
console.error(`\nwrote bench/workflow/RESULTS.md`);
rmSync(work, { recursive: true, force: true });
