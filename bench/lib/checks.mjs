// Output checks, so a fast wrong answer never counts:
//   - every timed run: the files a run wrote are hashed; all runs of a tool on an input must write
//     the same bytes (codegen is deterministic) — the run that was compiled stands for all of them;
//   - once per tool and input: codegen's output must compile with `tsc --strict` and load in node; Modelina's output
//     is compiled the same way (reported, so its figures can be read with that in mind); the
//     generator's JavaScript files are parsed and the files with syntax errors counted.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Every file under `dir` (relative paths, sorted), skipping node_modules. */
export function listFiles(dir) {
  const out = [];
  const walk = (folder) => {
    let entries;
    try {
      entries = readdirSync(folder);
    } catch {
      return;
    }
    for (const name of entries) {
      if (name === 'node_modules') continue;
      const full = path.join(folder, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return out.sort();
}

/** A hash of every file's path and bytes under `dir`, and the file count. */
export function hashTree(dir, { ignore = [] } = {}) {
  const hash = createHash('sha256');
  const files = listFiles(dir).filter((f) => !ignore.some((pattern) => pattern.test(f)));
  for (const file of files) hash.update(file).update('\0').update(readFileSync(path.join(dir, file))).update('\0');
  return { hash: hash.digest('hex').slice(0, 16), files: files.length };
}

/** How long a check (tsc, loading the emitted code) may take before it counts as failed. */
export const CHECK_TIMEOUT_MS = 300_000;

function run(cmd, args, cwd) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 256 * 1024 * 1024, timeout: CHECK_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const timedOut = error?.killed === true && error.signal === 'SIGKILL';
      resolve({ code: error ? (error.code ?? 1) : 0, output: `${stdout}${stderr}`, timedOut });
    });
  });
}

/**
 * `tsc --strict --noEmit` over the .ts files of `dir` (the options of test/helpers/codegen.ts).
 * Returns { ok, errors, message }.
 */
export async function compileTs(root, dir, workDir, { strict = true, emitTo, bundler = false } = {}) {
  mkdirSync(workDir, { recursive: true });
  const config = {
    compilerOptions: {
      strict,
      ...(emitTo ? { outDir: emitTo, rootDir: dir } : { noEmit: true }),
      target: 'ES2022',
      // Modelina writes extension-less relative imports, meant for a bundler (or CommonJS).
      module: bundler ? 'ESNext' : 'NodeNext',
      moduleResolution: bundler ? 'Bundler' : 'NodeNext',
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules/@types')],
      skipLibCheck: true,
    },
    include: [path.join(dir, '**/*.ts')],
  };
  const tsconfig = path.join(workDir, `tsconfig.${path.basename(dir)}.json`);
  writeFileSync(tsconfig, JSON.stringify(config, null, 2));
  const result = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], root);
  const errors = (result.output.match(/error TS\d+/g) ?? []).length;
  const flag = strict ? 'tsc --strict' : 'tsc';
  if (result.code === 0) return { ok: true, errors, message: `compiles with ${flag}` };
  const size = sizeOf(dir);
  if (result.timedOut) return { ok: false, errors, message: `${flag} did not finish within ${CHECK_TIMEOUT_MS / 1000} s on this output (${size} MB of TypeScript)` };
  if (/heap out of memory|Reached heap limit/i.test(result.output)) {
    return { ok: false, errors, message: `${flag} runs out of memory (node's default heap) on this output (${size} MB of TypeScript): a user's tsc would too` };
  }
  const first = result.output.split('\n').find((l) => l.includes('error TS')) ?? result.output.trim().split('\n').slice(-3).join(' ');
  return { ok: false, errors, message: `${flag}: ${errors} error(s) (exit ${result.code}); first: ${first.replace(/\s+/g, ' ').slice(0, 300)}` };
}

/** Total size of the .ts files under `dir`, in MB. */
function sizeOf(dir) {
  let bytes = 0;
  for (const file of listFiles(dir)) if (file.endsWith('.ts')) bytes += statSync(path.join(dir, file)).size;
  return (bytes / 2 ** 20).toFixed(1);
}

/**
 * codegen's output, checked once per input: compiles with `tsc --strict` (emitting JavaScript), and
 * the emitted index.js loads in a fresh node process. The second step matters: the ajv standalone
 * files are marked @ts-nocheck, so tsc does not report, say, a function declared twice in them —
 * node does, when the module loads.
 */
export async function verifyCodegenOutput(root, outDir, workDir) {
  const js = path.join(workDir, 'js');
  rmSync(js, { recursive: true, force: true });
  const compiled = await compileTs(root, outDir, workDir, { strict: true, emitTo: js });
  if (!compiled.ok) return compiled;
  const index = path.join(js, 'index.js');
  const loaded = await run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(index).href)});`], root);
  if (loaded.code !== 0) {
    const first = (loaded.output.split('\n').find((l) => /Error/.test(l)) ?? loaded.output.slice(0, 300)).replace(/\s+/g, ' ');
    const at = loaded.output.split('\n').find((l) => l.startsWith('file://')) ?? '';
    return { ok: false, message: `compiles with tsc --strict, but the emitted index.js does not load: ${first.trim()}${at ? ` (${path.relative(js, fileURLToPath(at.replace(/:\d+$/, '')))})` : ''}` };
  }
  return { ok: true, message: 'compiles with tsc --strict; the emitted index.js loads' };
}

/** Parses every .js file under `dir` (TypeScript's parser, JavaScript mode); counts files with syntax errors. */
export async function checkJsSyntax(root, dir) {
  const { default: ts } = await import(path.join(root, 'node_modules/typescript/lib/typescript.js'));
  const files = listFiles(dir).filter((f) => f.endsWith('.js'));
  const broken = [];
  for (const file of files) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    const result = ts.transpileModule(text, { fileName: file, reportDiagnostics: true, compilerOptions: { allowJs: true, checkJs: false } });
    if ((result.diagnostics ?? []).length > 0) broken.push(file);
  }
  return {
    ok: broken.length === 0,
    files: files.length,
    broken: broken.length,
    message: broken.length === 0 ? `all ${files.length} .js files parse` : `${broken.length} of ${files.length} .js files have syntax errors (e.g. ${broken.slice(0, 3).join(', ')})`,
  };
}
