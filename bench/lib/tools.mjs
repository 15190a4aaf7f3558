// The tools measured, each as a whole process, with the check of its output (see group.mjs for the
// shape of a tool). Output folders live under .cache/bench/out/ (git-ignored).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkJsSyntax, compileTs, hashTree, verifyCodegenOutput } from './checks.mjs';

/** The targets `codegen generate` is asked for: all three brokers (the fullest output). */
export const GENERATE_TARGETS = 'rabbitmq,kafka,nats';

/** Parses the last line of stdout that is a JSON object. */
export function lastJson(stdout) {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    const t = line.trim();
    if (t.startsWith('{') && t.endsWith('}')) {
      try {
        return JSON.parse(t);
      } catch {
        // not this one
      }
    }
  }
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

/** `timings (ms): load=8.5 validate=535.5 ... total=5196.9 process=5609` → { load: 8.5, ... } */
export function parseStageTimings(stderr) {
  const line = stderr.split('\n').find((l) => l.startsWith('timings (ms):'));
  if (!line) return undefined;
  return Object.fromEntries(
    line
      .slice('timings (ms):'.length)
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('='))
      .map(([k, v]) => [k, Number(v)]),
  );
}

/**
 * The shared context: project root, work folder, the cache folder for warm runs, and the reference
 * output of each input (hash and deep check), shared by the cold and the warm codegen runs.
 */
export function createContext(root) {
  const work = path.join(root, '.cache', 'bench');
  const snapshot = path.join(work, 'codegen');
  return {
    root,
    work,
    node: process.execPath,
    // The codegen measured: a snapshot of the built package taken when the run starts (see snapshotCodegen).
    snapshot,
    codegen: path.join(snapshot, 'bin', 'codegen.js'),
    cacheDir: path.join(work, 'codegen-cache'),
    asyncapiBin: path.join(root, 'bench', 'node_modules', '@asyncapi', 'cli', 'bin', 'run'),
    analyticsConfig: path.join(work, 'asyncapi-analytics.json'),
    references: new Map(),
    verifications: new Map(),
  };
}

const rel = (ctx, p) => path.relative(ctx.root, p);

/** What the npm package ships (package.json's `files`, exclusions left out: they only trim), and package.json. */
export function packageParts(root) {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  return [...manifest.files.filter((entry) => !entry.startsWith('!')), 'package.json'];
}

/**
 * Copies the built package (what it ships: bin/, dist/, templates/, runtime/...) to .cache/bench/codegen, with
 * node_modules linked. Every codegen run of the bench uses this copy, so a
 * rebuild or a template edited in the working tree during the run cannot change what is measured.
 */
export function snapshotCodegen(ctx) {
  rmSync(ctx.snapshot, { recursive: true, force: true });
  mkdirSync(ctx.snapshot, { recursive: true });
  for (const part of packageParts(ctx.root)) cpSync(path.join(ctx.root, part), path.join(ctx.snapshot, part), { recursive: true });
  symlinkSync(path.join(ctx.root, 'node_modules'), path.join(ctx.snapshot, 'node_modules'), 'dir');
}

/**
 * dist/build-id (written by npm run build) and the newest change under templates/ (read at run
 * time): tells that codegen was rebuilt, or its templates edited, during the run.
 */
export function currentBuildId(ctx) {
  let id = 'none';
  try {
    id = readFileSync(path.join(ctx.root, 'dist', 'build-id'), 'utf8').trim();
  } catch {
    // not built
  }
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  try {
    walk(path.join(ctx.root, 'templates'));
  } catch {
    // no templates folder
  }
  return `${id}:${newest}`;
}
const outFolder = (ctx, group, id) => path.join(ctx.work, 'out', group, id);

/** Compares a run's output with the first run's (same tool family and input); deep-checks it once. */
async function checkOutput(ctx, key, outDir, deepCheck, { mustMatch }) {
  const tree = hashTree(outDir);
  if (tree.files === 0) return { ok: false, note: 'no files written' };
  const reference = ctx.references.get(key);
  const buildId = currentBuildId({ root: ctx.snapshot });
  if (!reference || (reference.hash !== tree.hash && reference.buildId !== buildId)) {
    // First run of this input, or codegen was rebuilt since (dist/build-id changed): check again.
    if (reference) ctx.rebuilt = true;
    ctx.references.set(key, { ...tree, buildId });
    const verdict = await deepCheck();
    ctx.verifications.set(key, verdict);
    if (reference) return { ok: mustMatch ? verdict.ok : true, note: 'codegen was rebuilt (dist/ or templates/ changed) during the run: output checked again', extra: { files: tree.files, verified: verdict.ok } };
  } else if (reference.hash !== tree.hash) {
    if (mustMatch) return { ok: false, note: `output differs from the first run (${tree.files} vs ${reference.files} files)` };
    return { ok: true, note: 'output differs from run to run', extra: { files: tree.files } };
  }
  const verdict = ctx.verifications.get(key);
  return { ok: mustMatch ? verdict.ok : true, note: verdict.message, extra: { files: tree.files, verified: verdict.ok } };
}

/**
 * `codegen generate` in one of three cache states, never mixed:
 *   cold:  --no-cache and CODEGEN_CACHE=0: every stage runs, nothing is read from any cache;
 *   first: an empty cache folder before every run: what a user's first run does (the formatted
 *          run-time files shipped in dist/format-cache are used, the rest is formatted);
 *   warm:  the bench's own cache, primed by the warm-up run: the whole run comes from the cache.
 */
export function codegenGenerate(ctx, group, input, { mode }) {
  const id = `codegen-${mode}`;
  const out = outFolder(ctx, group, id);
  const firstCache = path.join(ctx.work, 'first-run-cache');
  const args = [ctx.codegen, 'generate', path.join(ctx.root, input.file), '--target', GENERATE_TARGETS, '--out', out, ...(mode === 'cold' ? ['--no-cache'] : [])];
  const labels = { cold: 'codegen generate (cold, --no-cache)', first: 'codegen generate (first run: empty cache)', warm: 'codegen generate (warm cache)' };
  const displays = {
    cold: `CODEGEN_CACHE=0 node bin/codegen.js generate ${input.file} --target ${GENERATE_TARGETS} --out <empty dir> --no-cache`,
    first: `CODEGEN_CACHE_DIR=<empty dir> node bin/codegen.js generate ${input.file} --target ${GENERATE_TARGETS} --out <empty dir>`,
    warm: `node bin/codegen.js generate ${input.file} --target ${GENERATE_TARGETS} --out <empty dir>   # cache primed by the warm-up run`,
  };
  const env = { cold: { CODEGEN_CACHE: '0', CODEGEN_CACHE_DIR: ctx.cacheDir }, first: { CODEGEN_CACHE_DIR: firstCache }, warm: { CODEGEN_CACHE_DIR: ctx.cacheDir } }[mode];
  return {
    id,
    role: 'codegen',
    label: labels[mode],
    display: displays[mode],
    prepare: () => {
      rmSync(out, { recursive: true, force: true });
      if (mode === 'first') rmSync(firstCache, { recursive: true, force: true });
    },
    command: () => ({ cmd: ctx.node, args, env: { CODEGEN_TIMINGS: '1', ...env } }),
    async check(result, { warmup }) {
      if (result.code !== 0) return { ok: false, note: `exit ${result.code}: ${result.stderr.trim().split('\n').pop()}` };
      const stages = parseStageTimings(result.stderr);
      if (mode === 'warm' && !warmup && !stages?.['cache-hit']) return { ok: false, note: 'warm run did not hit the cache (was codegen rebuilt or a template edited?)' };
      if (mode !== 'warm' && stages?.['cache-hit']) return { ok: false, note: 'a cold or first run was answered from a cache' };
      const verdict = await checkOutput(ctx, `generate:${input.name}`, out, () => verifyCodegenOutput(ctx.root, out, path.join(ctx.work, 'verify', input.name)), { mustMatch: true });
      return { ...verdict, stages: warmup ? undefined : stages };
    },
  };
}

export function modelina(ctx, group, input) {
  const out = outFolder(ctx, group, 'modelina');
  return {
    id: 'modelina',
    role: 'peer',
    label: '@asyncapi/modelina (TypeScript models)',
    display: `node bench/lib/peers/modelina.mjs ${input.file} <empty dir>`,
    prepare: () => rmSync(out, { recursive: true, force: true }),
    command: () => ({ cmd: ctx.node, args: [path.join(ctx.root, 'bench/lib/peers/modelina.mjs'), path.join(ctx.root, input.file), out], env: {} }),
    async check(result) {
      const summary = lastJson(result.stdout);
      if (result.code !== 0 || !summary) return { ok: false, note: `exit ${result.code}: ${result.stderr.trim().split('\n').pop()}` };
      // Modelina's output is compiled without --strict and with bundler resolution: how its models are meant to be used.
      return checkOutput(ctx, `modelina:${input.name}`, out, () => compileTs(ctx.root, out, path.join(ctx.work, 'verify', `modelina-${input.name}`), { strict: false, bundler: true }), { mustMatch: false });
    },
  };
}

export function asyncapiGenerator(ctx, group, input) {
  const out = outFolder(ctx, group, 'generator');
  return {
    id: 'generator',
    role: 'peer',
    label: '@asyncapi/generator + nodejs-template',
    display: `node bench/lib/peers/generator.mjs ${input.file} <empty dir> ${input.server}`,
    prepare: () => rmSync(out, { recursive: true, force: true }),
    command: () => ({ cmd: ctx.node, args: [path.join(ctx.root, 'bench/lib/peers/generator.mjs'), path.join(ctx.root, input.file), out, input.server], env: { npm_config_offline: 'true' } }),
    async check(result) {
      const summary = lastJson(result.stdout);
      if (result.code !== 0 || !summary) return { ok: false, note: `exit ${result.code}: ${result.stderr.trim().split('\n').slice(-3).join(' ')}` };
      const verdict = await checkOutput(ctx, `generator:${input.name}`, out, () => checkJsSyntax(ctx.root, out), { mustMatch: false });
      return { ...verdict, extra: { ...verdict.extra, generatorVersion: summary.generatorVersion } };
    },
  };
}

export function parser(ctx, input) {
  return {
    id: 'parser',
    role: 'peer',
    label: '@asyncapi/parser (parse + validate)',
    display: `node bench/lib/peers/parser.mjs ${input.file}`,
    command: () => ({ cmd: ctx.node, args: [path.join(ctx.root, 'bench/lib/peers/parser.mjs'), path.join(ctx.root, input.file)], env: {} }),
    async check(result) {
      const summary = lastJson(result.stdout);
      if (!summary?.valid) return { ok: false, note: `not valid (exit ${result.code})` };
      if (summary.channels !== input.channels) return { ok: false, note: `${summary.channels} channels parsed, ${input.channels} expected` };
      return { ok: true };
    },
  };
}

/**
 * `codegen validate`. The parser engine remembers its verdict by content: `remembered` measures that
 * (the cache primed by the warm-up run); otherwise `--no-cache`, the parser runs every time.
 */
export function codegenValidate(ctx, input, engine, { remembered = false } = {}) {
  const flags = engine === 'parser' && !remembered ? ['--no-cache'] : [];
  return {
    id: `codegen-validate-${engine}${remembered ? '-remembered' : ''}`,
    role: 'codegen',
    label: engine === 'parser' ? (remembered ? 'codegen validate (parser verdict remembered)' : 'codegen validate (full @asyncapi/parser run, --no-cache)') : 'codegen validate --engine fast',
    display: `node bin/codegen.js validate ${input.file}${engine === 'fast' ? ' --engine fast' : ''}${flags.map((f) => ' ' + f).join('')} --json`,
    command: () => ({ cmd: ctx.node, args: [ctx.codegen, 'validate', path.join(ctx.root, input.file), '--engine', engine, ...flags, '--json'], env: { CODEGEN_CACHE_DIR: ctx.cacheDir } }),
    async check(result) {
      const summary = lastJson(result.stdout);
      if (result.code !== 0 || !summary?.valid) return { ok: false, note: `exit ${result.code}, valid: ${summary?.valid}` };
      return { ok: true };
    },
  };
}

export function codegenVersion(ctx) {
  return {
    id: 'codegen-version',
    role: 'codegen',
    label: 'codegen --version',
    display: 'node bin/codegen.js --version',
    command: () => ({ cmd: ctx.node, args: [ctx.codegen, '--version'], env: {} }),
    async check(result) {
      return /^\d+\.\d+\.\d+/.test(result.stdout.trim()) && result.code === 0 ? { ok: true } : { ok: false, note: `printed ${JSON.stringify(result.stdout.slice(0, 80))}` };
    },
  };
}

/** `codegen generate --check` on a folder that is up to date (prepared once, untimed), warm cache. */
export async function codegenCheck(ctx, group, input, prepareOnce) {
  const out = outFolder(ctx, group, `check-${input.name}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(path.dirname(out), { recursive: true });
  await prepareOnce([ctx.node, ctx.codegen, 'generate', path.join(ctx.root, input.file), '--target', GENERATE_TARGETS, '--out', out], { CODEGEN_CACHE_DIR: ctx.cacheDir });
  return {
    id: `codegen-check-${input.name}`,
    role: 'codegen',
    label: `codegen generate --check (${input.name}, up to date)`,
    display: `node bin/codegen.js generate ${input.file} --target ${GENERATE_TARGETS} --out <up-to-date dir> --check`,
    command: () => ({ cmd: ctx.node, args: [ctx.codegen, 'generate', path.join(ctx.root, input.file), '--target', GENERATE_TARGETS, '--out', out, '--check'], env: { CODEGEN_CACHE_DIR: ctx.cacheDir } }),
    async check(result) {
      return result.code === 0 ? { ok: true } : { ok: false, note: `exit ${result.code} (expected 0: up to date): ${result.stderr.trim().split('\n').pop()}` };
    },
  };
}

/**
 * A project as a team has it, for the config-file commands: a git repository with the document, a
 * codegen.config.json, the generated code committed, and a compatible change made, regenerated and
 * staged — what the pre-commit hook sees on an ordinary commit. Prepared once, untimed.
 */
export async function prepareProject(ctx, input, prepareOnce) {
  const dir = path.join(ctx.work, 'projects', input.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const text = readFileSync(path.join(ctx.root, input.file), 'utf8');
  writeFileSync(path.join(dir, 'asyncapi.yaml'), text);
  writeFileSync(path.join(dir, 'codegen.config.json'), JSON.stringify({ documents: [{ document: 'asyncapi.yaml', targets: GENERATE_TARGETS.split(','), out: 'src/events' }] }, null, 2) + '\n');
  const env = { ...GIT_ENV, CODEGEN_CACHE_DIR: ctx.cacheDir };
  await prepareOnce(['git', 'init', '-q', '-b', 'main'], env, dir);
  await prepareOnce([ctx.node, ctx.codegen], env, dir);
  await prepareOnce(['git', 'add', '-A'], env, dir);
  await prepareOnce(['git', 'commit', '-q', '-m', 'initial'], env, dir);
  writeFileSync(path.join(dir, 'asyncapi.yaml'), text.replace(/^info:\n/m, 'info:\n  x-reviewed-by: bench\n'));
  await prepareOnce([ctx.node, ctx.codegen], env, dir);
  await prepareOnce(['git', 'add', '-A'], env, dir);
  return dir;
}

/** git without the user's configuration, with a fixed identity (the bench's own repositories). */
export const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid', NO_COLOR: '1' };

/** `codegen --check` (config file) and the pre-commit hook `codegen --check --against HEAD --staged`, in a prepared project. */
export function codegenProjectCommand(ctx, input, dir, kind) {
  const args = kind === 'hook' ? ['--check', '--against', 'HEAD', '--staged'] : ['--check'];
  return {
    id: kind === 'hook' ? `codegen-hook-${input.name}` : `codegen-config-check-${input.name}`,
    role: 'codegen',
    label: kind === 'hook' ? `pre-commit hook: codegen --check --against HEAD --staged (${input.name})` : `codegen --check, config file (${input.name})`,
    display: `node bin/codegen.js ${args.join(' ')}   # in a git repository: ${input.file} as asyncapi.yaml, codegen.config.json, generated code committed, a compatible change staged`,
    command: () => ({ cmd: ctx.node, args: [ctx.codegen, ...args], env: { ...GIT_ENV, CODEGEN_CACHE_DIR: ctx.cacheDir }, cwd: dir }),
    async check(result) {
      return result.code === 0 ? { ok: true } : { ok: false, note: `exit ${result.code} (expected 0: up to date, no breaking change): ${result.stderr.trim().split('\n').slice(-2).join(' ')}` };
    },
  };
}

/** `codegen diff old new --format json`: exit 1 with breaking findings expected (the pairs contain breaking changes). */
export function codegenDiff(ctx, pair) {
  let expected;
  return {
    id: 'codegen-diff',
    role: 'codegen',
    label: 'codegen diff',
    display: `node bin/codegen.js diff ${pair.old} ${pair.new} --format json`,
    command: () => ({ cmd: ctx.node, args: [ctx.codegen, 'diff', path.join(ctx.root, pair.old), path.join(ctx.root, pair.new), '--format', 'json'], env: {} }),
    async check(result) {
      const report = lastJson(result.stdout);
      if (!report?.summary) return { ok: false, note: `exit ${result.code}, no JSON report: ${result.stderr.trim().split('\n').pop()}` };
      if (result.code !== 1 || !(report.summary.breaking > 0)) return { ok: false, note: `exit ${result.code}, ${report.summary.breaking} breaking (a breaking change is in the pair)` };
      const counts = `${report.summary.breaking} breaking, ${report.summary.warning} warning, ${report.summary.info} info`;
      expected ??= counts;
      if (counts !== expected) return { ok: false, note: `findings differ between runs (${counts} vs ${expected})` };
      return { ok: true, note: `findings: ${counts}`, extra: { findings: report.summary } };
    },
  };
}

/** `asyncapi diff` from @asyncapi/cli (analytics off: a config file of the bench's own, CI=true). */
export function asyncapiCliDiff(ctx, pair) {
  return {
    id: 'asyncapi-cli-diff',
    role: 'peer',
    label: 'asyncapi diff (@asyncapi/cli)',
    display: `bench/node_modules/.bin/asyncapi diff ${pair.old} ${pair.new} -f json`,
    command: () => ({
      cmd: ctx.node,
      args: [ctx.asyncapiBin, 'diff', path.join(ctx.root, pair.old), path.join(ctx.root, pair.new), '-f', 'json'],
      env: { ASYNCAPI_METRICS_CONFIG_PATH: ctx.analyticsConfig, CI: 'true' },
    }),
    async check(result) {
      let report;
      try {
        report = JSON.parse(result.stdout);
      } catch {
        return { ok: false, note: `exit ${result.code}, output is not JSON: ${(result.stderr || result.stdout).trim().split('\n').pop()}` };
      }
      if (![0, 1].includes(result.code) || !Array.isArray(report.changes)) return { ok: false, note: `exit ${result.code}` };
      const counts = {};
      for (const change of report.changes) counts[change.type] = (counts[change.type] ?? 0) + 1;
      return { ok: true, note: `changes: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}`, extra: { findings: counts } };
    },
  };
}

export function asyncapiDiffLibrary(ctx, pair) {
  return {
    id: 'asyncapi-diff-lib',
    role: 'peer',
    label: '@asyncapi/diff (library + parser)',
    display: `node bench/lib/peers/asyncapi-diff.mjs ${pair.old} ${pair.new}`,
    command: () => ({ cmd: ctx.node, args: [path.join(ctx.root, 'bench/lib/peers/asyncapi-diff.mjs'), path.join(ctx.root, pair.old), path.join(ctx.root, pair.new)], env: {} }),
    async check(result) {
      const summary = lastJson(result.stdout);
      if (result.code !== 0 || !summary) return { ok: false, note: `exit ${result.code}: ${result.stderr.trim().split('\n').pop()}` };
      return { ok: true, note: `changes: ${summary.breaking} breaking, ${summary.nonBreaking} non-breaking, ${summary.unclassified} unclassified`, extra: { findings: summary } };
    },
  };
}

export { rel };
