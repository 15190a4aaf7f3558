// Where the pre-commit hook's time goes: runs the hook's steps (`codegen --check --against HEAD
// --staged`) one by one in a fresh process, through the built modules, and reports the CPU time
// (user + system) and wall time of each step; median of several processes.
// Usage: npm run build && node bench/workflow/phases.mjs [--runs 9] [--document <file>]
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);

if (args[0] === '--child') {
  // One process: each step timed with process.cpuUsage() since the process started.
  const dist = pathToFileURL(path.join(root, 'dist') + '/').href;
  const laps = [];
  let lastCpu = process.cpuUsage();
  let lastWall = performance.now();
  const lap = (step) => {
    const cpu = process.cpuUsage(lastCpu);
    laps.push({ step, cpu: (cpu.user + cpu.system) / 1000, wall: performance.now() - lastWall });
    lastCpu = process.cpuUsage();
    lastWall = performance.now();
  };
  // Node's own start-up, before this line: the process's total CPU so far.
  const boot = process.cpuUsage();
  laps.push({ step: 'node start-up (until the script runs)', cpu: (boot.user + boot.system) / 1000, wall: performance.now() });
  await import(dist + 'cli/run.js');
  lap('CLI modules (commander, run.ts)');
  await import(dist + 'commands/run-config.js');
  const { loadConfig } = await import(dist + 'config/index.js');
  const { openProjectCache } = await import(dist + 'run/entry.js');
  const { runEntries } = await import(dist + 'run/entries.js');
  const { selectEntries } = await import(dist + 'run/select.js');
  const { compareEntry } = await import(dist + 'run/compare.js');
  const { stagedFiles } = await import(dist + 'git.js');
  lap('config-run modules (pipeline entry, src/run)');
  const io = { cwd: process.cwd(), env: process.env, isTTY: false, stdout() {}, stderr() {} };
  const cache = openProjectCache({ cache: true }, io);
  const { config } = await loadConfig({ cwd: io.cwd, cache });
  lap('find and load the config');
  const staged = await stagedFiles(config.dir);
  const entries = await selectEntries(config, staged, io.cwd);
  lap('git: staged files, select documents');
  const { results } = await runEntries(entries, { mode: 'check', cache, cwd: io.cwd }, 1);
  lap('--check: load document, cache hit, compare files');
  await import(dist + 'diff/index.js');
  lap('diff engine modules');
  await compareEntry(entries[0], ['HEAD'], config, io.cwd, { inputs: results[0].inputs });
  lap('diff: old version from git, both validated, modelled, compared');
  process.stdout.write(JSON.stringify(laps));
  process.exit(0);
}

const runs = Number(args[args.indexOf('--runs') + 1]) || 9;
const document = args.includes('--document') ? path.resolve(args[args.indexOf('--document') + 1]) : path.join(root, 'fixtures/example/asyncapi.yaml');
const work = mkdtempSync(path.join(os.tmpdir(), 'codegen-bench-phases-'));
const env = { ...process.env, NO_COLOR: '1', CODEGEN_CACHE: '1', CODEGEN_CACHE_DIR: path.join(work, '.cache'), GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid' };
const git = (...gitArgs) => execFileSync('git', gitArgs, { cwd: work, env, stdio: 'ignore' });
cpSync(document, path.join(work, 'asyncapi.yaml'));
writeFileSync(path.join(work, 'codegen.config.json'), JSON.stringify({ documents: [{ document: 'asyncapi.yaml', targets: ['rabbitmq', 'kafka', 'nats'], out: 'src/events' }] }));
git('init', '-q', '-b', 'main');
execFileSync(process.execPath, [path.join(root, 'bin/codegen.js')], { cwd: work, env, stdio: 'ignore' });
git('add', '-A');
git('commit', '-q', '-m', 'initial');
writeFileSync(path.join(work, 'asyncapi.yaml'), readFileSync(path.join(work, 'asyncapi.yaml'), 'utf8').replace(/^info:\n/m, 'info:\n  x-reviewed-by: bench\n'));
execFileSync(process.execPath, [path.join(root, 'bin/codegen.js')], { cwd: work, env, stdio: 'ignore' });
git('add', '-A');

const samples = [];
for (let i = 0; i <= runs; i++) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], { cwd: work, env, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  if (i > 0) samples.push(JSON.parse(child.stdout)); // the first process warms the file-system cache
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(`${path.relative(root, document)}: median of ${runs} processes (load average ${os.loadavg()[0].toFixed(1)}, ${os.cpus().length} cores)\n`);
console.log('| step | CPU ms | wall ms |\n|---|---:|---:|');
let cpuTotal = 0;
samples[0].forEach((lap, index) => {
  const cpu = median(samples.map((s) => s[index].cpu));
  cpuTotal += cpu;
  console.log(`| ${lap.step} | ${cpu.toFixed(0)} | ${median(samples.map((s) => s[index].wall)).toFixed(0)} |`);
});
console.log(`| total (sum of medians) | ${cpuTotal.toFixed(0)} | |`);
rmSync(work, { recursive: true, force: true });
