import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { run } from '../../src/cli/run.js';
import type { CliIO } from '../../src/cli/io.js';

const execFileAsync = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES = path.join(ROOT, 'fixtures');
const RUNS = path.join(ROOT, '.cache', 'test-runs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process with captured output (fast; for many runs). */
export async function runInProcess(args: string[], cwd = ROOT): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, env: { NO_COLOR: '1', CODEGEN_CACHE: process.env.CODEGEN_CACHE }, cwd };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

/** Runs the built binary as a whole process, as users do. */
export async function runBinary(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [path.join(ROOT, 'bin/codegen.js'), ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A fresh folder under .cache/test-runs (inside the project, so generated code resolves its packages). */
export function freshDir(label: string): string {
  const dir = path.join(RUNS, `${label.replace(/[^a-z0-9-]+/gi, '-')}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Makes `dir` a git work tree of its own: the project root that `$ref`s may not leave (test folders
 * are inside this repository's work tree, which would otherwise be the root).
 */
export function gitProject(dir: string): string {
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '--quiet', dir]);
  return dir;
}

/** Generates code for a document into `<dir>/out` and returns that folder. Fails the test on any error. */
export async function generateTo(document: string, targets: string[], dir = freshDir(path.basename(document))): Promise<string> {
  const out = path.join(dir, 'out');
  const result = await runInProcess(['generate', document, ...(targets.length ? ['--target', targets.join(',')] : []), '--out', out]);
  if (result.code !== 0) throw new Error(`generate ${document} failed (${result.code}):\n${result.stderr}`);
  return out;
}

/**
 * Type-checks generated folders with `tsc --strict` as one program. With `emit`, also writes
 * JavaScript next to each folder (`<folder>-js`) so tests can import and run it.
 */
export async function compileStrict(folders: string[], options: { emit?: boolean } = {}): Promise<void> {
  const dir = freshDir('tsc');
  const config = {
    compilerOptions: {
      strict: true,
      noEmit: !options.emit,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      typeRoots: [path.join(ROOT, 'node_modules/@types')],
      skipLibCheck: true,
      noUnusedLocals: false,
      ...(options.emit ? { outDir: path.join(dir, 'emit'), rootDir: ROOT } : {}),
    },
    include: folders.map((f) => path.join(f, '**/*.ts')),
  };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
  try {
    await execFileAsync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], {
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc --strict failed:\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 20000));
  }
  if (options.emit) {
    for (const folder of folders) emitted.set(folder, path.join(dir, 'emit', path.relative(ROOT, folder)));
  }
}

const emitted = new Map<string, string>();

/** Imports a module of a generated folder compiled with `compileStrict(..., { emit: true })`. */
export async function importGenerated<T = Record<string, unknown>>(folder: string, file = 'index.js'): Promise<T> {
  const js = emitted.get(folder);
  if (!js) throw new Error(`compile ${folder} with { emit: true } first`);
  return (await import(pathToFileURL(path.join(js, file)).href)) as T;
}

/**
 * The folder holding the JavaScript emitted for a generated folder by `compileStrict(..., { emit: true })`,
 * for child processes (e.g. a consumer killed with SIGKILL) that import the generated code themselves.
 */
export function emittedFolder(folder: string): string {
  const js = emitted.get(folder);
  if (!js) throw new Error(`compile ${folder} with { emit: true } first`);
  return js;
}

/** A name unique to this test run, for queues, topics, subjects and streams. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
