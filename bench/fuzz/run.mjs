// Longer fuzzing runs of the generator: the property suite of test/hostile/ (generator-v3 and
// generator-v2) again and again with fresh seeds, for as long as asked.
//
//   node bench/fuzz/run.mjs [--minutes 30] [--documents 60] [--cases 20] [--version 3|2|both] [--seed N]
//
// Each round runs one vitest process per AsyncAPI version with HOSTILE_SEED (a new random seed per
// round, or --seed for the first), HOSTILE_DOCUMENTS and HOSTILE_CASES_PER_DOCUMENT. A failing round
// prints the seed to replay it (HOSTILE_SEED=<seed> npx vitest run test/hostile/generator-v3.test.ts);
// the documents of every round stay under .cache/test-runs/hostile-*. The summary goes to
// .cache/fuzz/summary.json. Exit 1 when any round failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

const minutes = Number(option('minutes', '30'));
const documents = Number(option('documents', '60'));
const cases = Number(option('cases', '20'));
const versions = { 3: ['v3'], 2: ['v2'], both: ['v3', 'v2'] }[option('version', 'both')];
let seed = option('seed', undefined);
if (!versions) throw new Error('--version is 3, 2 or both');

const deadline = Date.now() + minutes * 60_000;
const rounds = [];
while (Date.now() < deadline || rounds.length === 0) {
  const roundSeed = seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seed);
  seed = undefined;
  for (const version of versions) {
    const started = Date.now();
    const run = spawnSync('npx', ['vitest', 'run', `test/hostile/generator-${version}.test.ts`], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, HOSTILE_SEED: String(roundSeed), HOSTILE_DOCUMENTS: String(documents), HOSTILE_CASES_PER_DOCUMENT: String(cases) },
      maxBuffer: 256 * 1024 * 1024,
    });
    const failed = run.status !== 0;
    const round = { version, seed: roundSeed, documents, cases: documents * cases, seconds: Math.round((Date.now() - started) / 1000), failed };
    rounds.push(round);
    console.log(`${failed ? 'FAIL' : 'ok  '} ${version} seed ${roundSeed}: ${round.cases} cases in ${round.seconds} s`);
    if (failed) {
      const output = `${run.stdout}\n${run.stderr}`;
      const lines = output.split('\n').filter((line) => /×|documents \(seed|^\s*[-+]\s|    /.test(line));
      console.log(lines.slice(0, 80).join('\n'));
      console.log(`replay: HOSTILE_SEED=${roundSeed} HOSTILE_DOCUMENTS=${documents} npx vitest run test/hostile/generator-${version}.test.ts`);
    }
  }
}
const summary = { rounds, cases: rounds.reduce((sum, r) => sum + r.cases, 0), failed: rounds.filter((r) => r.failed).length };
mkdirSync(path.join(ROOT, '.cache/fuzz'), { recursive: true });
writeFileSync(path.join(ROOT, '.cache/fuzz/summary.json'), JSON.stringify(summary, null, 2));
console.log(`${summary.cases} cases in ${rounds.length} rounds, ${summary.failed} failed`);
process.exit(summary.failed > 0 ? 1 : 0);
