import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { run } from '../../src/cli/run.js';
import type { CliIO } from '../../src/cli/io.js';
import { FIXTURES, freshDir, ROOT, type CliResult } from '../helpers/codegen.js';

const execFileAsync = promisify(execFile);

export const WORKFLOW_FIXTURE = path.join(FIXTURES, 'workflow');
export const BIN = path.join(ROOT, 'bin/codegen.js');

/**
 * One content-hash cache per test file: formatting results are keyed by content, and whole runs
 * by the generator's build id and inputs, so within one test run nothing in it can be stale.
 */
let cacheDir: string | undefined;
export function testCacheDir(): string {
  cacheDir ??= freshDir('workflow-cache');
  return cacheDir;
}

/** Environment for spawned binaries: no colour, the test file's cache (vitest's CODEGEN_CACHE=0 is overridden). */
export function binaryEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', CODEGEN_CACHE: '1', CODEGEN_CACHE_DIR: testCacheDir(), ...extra };
}

/** Runs the CLI in this process, in `cwd`, with output captured. */
export async function cli(args: string[], cwd: string, options: { isTTY?: boolean; env?: Record<string, string> } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    isTTY: options.isTTY ?? false,
    env: { NO_COLOR: '1', CODEGEN_CACHE_DIR: testCacheDir(), ...options.env },
    cwd,
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

/** A project folder inside the repository (so `typescript` resolves from it) with the given files. */
export function project(label: string, files: Record<string, string> = {}, options: { fixture?: boolean } = {}): string {
  const dir = freshDir(label);
  if (options.fixture !== false) cpSync(WORKFLOW_FIXTURE, dir, { recursive: true });
  writeFiles(dir, files);
  return dir;
}

/** A project folder outside the repository: no `typescript` and no `codegen` package can be resolved from it. */
export function outsideProject(label: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `codegen-${label}-`));
  cpSync(WORKFLOW_FIXTURE, dir, { recursive: true });
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

export const BASIC_CONFIG = {
  'codegen.config.json': JSON.stringify({ documents: [{ document: 'asyncapi.yaml', out: 'out' }] }, null, 2),
};

/** sha256 of every file under `dir` (relative path → hash), `.git` left out. */
export function hashTree(dir: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else hashes.set(path.relative(dir, full), createHash('sha256').update(readFileSync(full)).digest('hex'));
    }
  };
  walk(dir);
  return hashes;
}

export function mtimes(dir: string): Map<string, number> {
  const times = new Map<string, number>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else times.set(path.relative(dir, full), statSync(full).mtimeMs);
    }
  };
  walk(dir);
  return times;
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, env: gitEnv() });
  return stdout;
}

/** git without the user's global config and with a fixed identity. */
export function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'codegen tests',
    GIT_AUTHOR_EMAIL: 'tests@example.invalid',
    GIT_COMMITTER_NAME: 'codegen tests',
    GIT_COMMITTER_EMAIL: 'tests@example.invalid',
  };
}

/** A spawned process with its output collected, and a way to wait for a line. */
export interface Spawned {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output (from `from` on) matches; rejects after `timeoutMs` with the output so far. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<number>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnBinary(args: string[], cwd: string, env = binaryEnv()): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => text,
    exit,
    waitFor(pattern, from = 0, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(text.slice(from));
          if (match) {
            cleanup();
            resolve(from + match.index + match[0].length);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern} in:\n${text}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/**
 * Runs the built binary to completion. Tests whose checks run the binary (hooks, CI commands) also
 * generate with it: code generated from src/ could differ from what dist/ generates while the
 * working tree is ahead of the last build.
 */
export async function binary(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: binaryEnv(), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
