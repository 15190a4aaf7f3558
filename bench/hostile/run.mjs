// Measures the resource bombs of test/hostile/bombs.ts against the built binary and writes the
// figures into bench/hostile/RESULTS.md (between the "figures" markers; the analysis around them
// is kept). The inputs are generated under .cache/test-runs/, never committed.
//
//   npm run build && node bench/hostile/run.mjs
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS = path.join(ROOT, 'bench/hostile/RESULTS.md');
const TABLE = path.join(ROOT, '.cache/hostile-bombs-figures.md');

const load = loadavg()[0].toFixed(1);
const run = spawnSync('npx', ['vitest', 'run', 'test/hostile/bombs.test.ts'], {
  cwd: ROOT,
  encoding: 'utf8',
  env: { ...process.env, HOSTILE_BOMBS_RESULTS: TABLE },
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (!existsSync(TABLE)) {
  console.error('no figures were written');
  process.exit(1);
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}; load average ${load} when the run started`;
const figures = [
  '<!-- figures: written by node bench/hostile/run.mjs -->',
  `Command: \`npm run build && node bench/hostile/run.mjs\` (each input: \`/usr/bin/time -f '%e %M' node bin/codegen.js generate <input> -t rabbitmq,kafka,nats -o <out>\`).`,
  `Machine: ${machine}. Run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  '',
  readFileSync(TABLE, 'utf8').trim(),
  '<!-- /figures -->',
].join('\n');
const current = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Resource bombs\n\n<!-- figures --><!-- /figures -->\n';
const updated = current.replace(/<!-- figures[\s\S]*?<!-- \/figures -->/, figures);
writeFileSync(RESULTS, updated);
console.log(`figures written to ${path.relative(ROOT, RESULTS)}`);
process.exit(run.status ?? 1);
