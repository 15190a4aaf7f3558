/**
 * Every git call codegen makes, in one place: the work tree root, the files staged for a commit,
 * whether files changed since a revision, and reading files as they are at a revision
 * (`diff --against`, `codegen --against`, `--staged`). Only the `git` binary is used, never a
 * library; a ref starting with `-` is never passed on (it would be read as an option).
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { usageError } from './errors.js';

/** Reads files as they are at one git revision: what `diff --against <ref>` loads the old version with. */
export interface GitRevision {
  /** The ref as the user wrote it. */
  ref: string;
  commit: string;
  /** Absolute path of the repository's working tree. */
  root: string;
  /** Reads a file (absolute path inside the working tree) at the revision; undefined when it does not exist there. */
  readFile(absolutePath: string): Promise<string | undefined>;
  close(): void;
}

/** Runs git; never rejects: a git that cannot start answers with code 127, as a shell would. */
function git(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The first line git wrote to stderr, for messages. */
function reasonOf(result: { code: number; stderr: string }): string {
  return result.stderr.split('\n').find((line) => line.trim() !== '')?.trim() ?? `git exited with ${result.code}`;
}

/**
 * The root of the git work tree holding `dir`: the nearest folder from `dir` upwards with a `.git`
 * entry (a folder, or the file a linked worktree or submodule has). Read from the file system, not
 * by starting git, so asking costs nothing at start-up; undefined outside any work tree.
 */
export function gitWorkTreeRoot(dir: string): string | undefined {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (existsSync(path.join(current, '.git'))) return current;
    if (path.dirname(current) === current) return undefined;
  }
}

/** Files staged in git (added, copied, modified, renamed, deleted), absolute. Outside a repository: exit 2. */
export async function stagedFiles(dir: string): Promise<string[]> {
  const [root, list] = await Promise.all([git(['rev-parse', '--show-toplevel'], dir), git(['diff', '--cached', '--name-only', '-z', '--diff-filter=ACMRD'], dir)]);
  const failed = [root, list].find((result) => result.code !== 0);
  if (failed) throw usageError('E_NOT_A_REPOSITORY', `--staged needs a git repository: ${reasonOf(failed)}`);
  return list.stdout
    .split('\0')
    .filter(Boolean)
    .map((file) => path.join(root.stdout.trim(), file));
}

/** `git diff --quiet <ref> -- <files>`: true when none of the files differs from the revision (an error counts as changed). */
export async function unchangedSince(files: string[], ref: string): Promise<boolean> {
  if (files.length === 0 || ref.startsWith('-') || files.some((file) => /^[a-z][a-z0-9+.-]*:\/\//i.test(file))) return false;
  return (await git(['diff', '--quiet', ref, '--', ...files], path.dirname(files[0]!))).code === 0;
}

/**
 * Resolves `ref` in the repository holding `document` and returns a reader over that commit.
 * A ref that does not name a commit, or a document outside any repository, cannot run (exit 2).
 */
export async function openRevision(ref: string, document: string, cwd: string): Promise<GitRevision> {
  if (ref.startsWith('-') || ref.trim() === '') throw usageError('E_BAD_REF', `"${ref}" is not a git revision`);
  const absolute = path.resolve(cwd, document);
  let dir = path.dirname(absolute);
  try {
    dir = realpathSync(dir);
  } catch {
    // The folder may not exist in the working tree any more; git will say so.
  }
  const result = await git(['rev-parse', '--show-toplevel', `${ref}^{commit}`], dir);
  if (result.code !== 0) {
    const reason = reasonOf(result);
    if (/not a git repository/i.test(reason)) throw usageError('E_NOT_A_REPOSITORY', `--against needs a git repository: ${document} is not inside one`);
    throw usageError('E_BAD_REF', `--against ${ref}: not a commit in this repository (${reason.replace(/^fatal:\s*/, '')})`);
  }
  const [root, commit] = result.stdout.trim().split('\n');
  const batch = new CatFileBatch(root!);
  return {
    ref,
    commit: commit!,
    root: root!,
    readFile: async (file) => {
      let real = file;
      try {
        real = path.join(realpathSync(path.dirname(file)), path.basename(file));
      } catch {
        // Not in the working tree: use the path as written.
      }
      const relative = path.relative(root!, real);
      if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
      return batch.read(`${commit}:${relative.split(path.sep).join('/')}`);
    },
    close: () => batch.close(),
  };
}

/** One `git cat-file --batch` process answering every read, in order. */
class CatFileBatch {
  private child?: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private readonly waiting: Array<(value: string | undefined) => void> = [];
  private failed?: Error;

  constructor(private readonly cwd: string) {}

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn('git', ['cat-file', '--batch'], { cwd: this.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    child.on('error', (error) => this.fail(error));
    child.on('exit', () => this.fail(new Error('git cat-file exited')));
    this.child = child;
    return child;
  }

  read(spec: string): Promise<string | undefined> {
    if (this.failed) return Promise.reject(this.failed);
    const child = this.start();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      child.stdin.write(`${spec}\n`);
    });
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const newline = this.buffer.indexOf(10);
      if (newline === -1) return;
      const header = this.buffer.subarray(0, newline).toString('utf8');
      if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
        this.buffer = this.buffer.subarray(newline + 1);
        this.waiting.shift()!(undefined);
        continue;
      }
      const [, type, size] = header.split(' ');
      const length = Number(size);
      if (this.buffer.length < newline + 1 + length + 1) return;
      const content = this.buffer.subarray(newline + 1, newline + 1 + length);
      this.buffer = this.buffer.subarray(newline + 1 + length + 1);
      this.waiting.shift()!(type === 'blob' ? content.toString('utf8') : undefined);
    }
  }

  private fail(error: Error): void {
    this.failed = error;
    for (const resolve of this.waiting.splice(0)) resolve(undefined);
  }

  close(): void {
    if (!this.child) return;
    this.child.removeAllListeners('exit');
    this.child.stdin.end();
    this.child = undefined;
  }
}
