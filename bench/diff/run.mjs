// Whole-process wall time of `codegen diff`, side by side with @asyncapi/diff and `asyncapi diff`
// (@asyncapi/cli), on the same document pairs, in one run.
//   npm install --prefix bench        # the comparison tools (bench/package.json), never the product's dependencies
//   npm run build                     # at the repository root: codegen runs from dist/
//   node bench/diff/run.mjs [--runs 10] [--write]
// --write also records the table in bench/diff/RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 10;
const dir = execFileSync(process.execPath, [path.join(here, 'make-pairs.mjs')], { encoding: 'utf8' }).trim();

// The CLI sends usage metrics unless told not to: an analytics file that says no, in the bench's folder.
const analytics = path.join(dir, 'asyncapi-analytics.json');
writeFileSync(analytics, JSON.stringify({ analyticsEnabled: 'false', infoMessageShown: 'true', userID: 'codegen-bench' }));
const bench = path.resolve(here, '..');
const cli = ['node_modules/@asyncapi/cli/bin/run_bin', 'node_modules/@asyncapi/cli/bin/run'].map((p) => path.join(bench, p)).find(existsSync);
const version = (name) => {
  try {
    return JSON.parse(readFileSync(path.join(bench, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};
const tools = [
  { name: 'codegen diff', command: (a, b) => [process.execPath, [path.join(root, 'bin/codegen.js'), 'diff', a, b, '--format', 'json', '--no-ignore']], ok: (code) => code === 0 || code === 1 },
  existsSync(path.join(bench, 'node_modules/@asyncapi/diff')) && { name: `@asyncapi/diff ${version('@asyncapi/diff')} (+ @asyncapi/parser ${version('@asyncapi/parser')})`, command: (a, b) => [process.execPath, [path.join(here, 'asyncapi-diff.mjs'), a, b]], ok: (code) => code === 0 },
  cli && { name: `asyncapi diff (@asyncapi/cli ${version('@asyncapi/cli')})`, command: (a, b) => [process.execPath, [cli, 'diff', a, b, '--format', 'json', '--no-error']], ok: (code) => code === 0 || code === 1, env: { ASYNCAPI_METRICS_CONFIG_PATH: analytics } },
].filter(Boolean);

/** CPU time (user + system, ms) of the children this process has waited for; Linux only (10 ms resolution). */
function childrenCpu() {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10; // cutime + cstime, in 1/100 s
  } catch {
    return NaN;
  }
}

function measure(tool, a, b) {
  const times = [];
  const cpus = [];
  let output = '';
  for (let i = 0; i < runs + 1; i++) {
    const [cmd, argv] = tool.command(a, b);
    const cpuBefore = childrenCpu();
    const start = process.hrtime.bigint();
    const result = spawnSync(cmd, argv, { encoding: 'utf8', cwd: dir, env: { ...process.env, NO_COLOR: '1', ...(tool.env ?? {}) }, maxBuffer: 256 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpu = childrenCpu() - cpuBefore;
    if (!tool.ok(result.status)) throw new Error(`${tool.name} failed (${result.status}):\n${result.stderr}\n${result.stdout}`.slice(0, 4000));
    output = result.stdout;
    if (i > 0) {
      // The first run warms the file cache.
      times.push(ms);
      cpus.push(cpu);
    }
  }
  times.sort((x, y) => x - y);
  cpus.sort((x, y) => x - y);
  return { min: times[0], median: times[Math.floor(times.length / 2)], cpu: cpus[Math.floor(cpus.length / 2)], output };
}

const pairs = [
  ['streetlights 3.0 (small)', 'small-old.yaml', 'small-new.yaml'],
  ['500 channels (large)', 'large-old.yaml', 'large-new.yaml'],
];
const rows = [];
for (const [label, a, b] of pairs) {
  const size = (f) => `${Math.round(readFileSync(path.join(dir, f)).length / 1024)} KB`;
  for (const tool of tools) {
    const { min, median, cpu, output } = measure(tool, path.join(dir, a), path.join(dir, b));
    let found = '';
    try {
      const report = JSON.parse(output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1));
      if (report.summary) found = `${report.summary.breaking} breaking, ${report.summary.warning} warning, ${report.summary.info} info`;
      else if (Array.isArray(report.changes)) {
        const count = (type) => report.changes.filter((c) => c.type === type).length;
        found = `${count('breaking')} breaking, ${count('non-breaking')} non-breaking, ${count('unclassified')} unclassified`;
      } else found = `${report.breaking} breaking, ${report.nonBreaking} non-breaking, ${report.unclassified} unclassified`;
    } catch {
      found = output.trim().split('\n')[0]?.slice(0, 80) ?? '';
    }
    rows.push(`| ${label} (${size(a)}) | ${tool.name} | ${min.toFixed(0)} | ${median.toFixed(0)} | ${Number.isNaN(cpu) ? 'n/a' : cpu.toFixed(0)} | ${found} |`);
    console.error(rows[rows.length - 1]);
  }
}
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
const table = ['| pair | tool | wall min ms | wall median ms | CPU median ms (user+sys) | what it reported |', '|---|---|---|---|---|---|', ...rows].join('\n');
console.log(`${machine}\n${runs} runs each (after one warm-up run)\n\n${table}`);
if (args.includes('--write')) {
  const file = path.join(here, 'RESULTS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const marker = '<!-- results -->';
  const block = `${marker}\nMachine: ${machine}. ${runs} runs each after one warm-up run; wall time of the whole process, and the CPU time it used.\n\n${table}\n${marker}`;
  writeFileSync(file, text.includes(marker) ? text.replace(new RegExp(`${marker}[\\s\\S]*${marker}`), block) : `${text}\n${block}\n`);
}
rmSync(dir, { recursive: true, force: true });
